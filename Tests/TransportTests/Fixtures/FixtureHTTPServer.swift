import Foundation

/// The fixture HTTP(S) server (Python standard library) on 127.0.0.1 with an ephemeral port.
/// Routes: /bytes/N, /nolength/N, /files/NAME (from `root`), /status/CODE?REPEAT, /echo,
/// /ratelimit, /early-hints, /redirect, /slow, /endless/ANNOUNCE, /long-header/N. /bytes, /files
/// and /endless honour `Range: bytes=N-`.
final class FixtureHTTPServer: @unchecked Sendable {
    let port: Int
    let root: TemporaryFolder
    let scheme: String
    private let process: BackgroundProcess

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the server; with `certificate` and `key` (PEM paths) it speaks TLS.
    init(certificate: String? = nil, key: String? = nil) throws {
        root = try TemporaryFolder()
        let script = root.path("fixture_server.py")
        try FixtureServerScript.source.write(toFile: script, atomically: true, encoding: .utf8)
        var environment = ["FIXTURE_ROOT": root.root, "PATH": "/usr/bin:/bin"]
        if let certificate, let key {
            environment["FIXTURE_CERT"] = certificate
            environment["FIXTURE_KEY"] = key
        }
        scheme = certificate == nil ? "http" : "https"
        process = try BackgroundProcess("/usr/bin/python3", [script], environment: environment)
        guard let line = process.readLine(), line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            process.stop()
            root.remove()
            throw StartFailure(description: "the fixture server did not report its port")
        }
        self.port = port
    }

    func url(_ path: String, host: String = "127.0.0.1") -> String {
        "\(scheme)://\(host):\(port)\(path)"
    }

    /// Places `data` where /files/NAME serves it and returns its path.
    @discardableResult
    func addFile(_ name: String, _ data: Data) throws -> String {
        let path = root.path(name)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// When /slow saw its client disconnect (seconds since 1970, by the server's clock), waiting
    /// up to `timeout` for it; nil if it never did.
    func slowClientClosedAt(timeout: Duration = .seconds(60)) async throws -> Double? {
        try await firstTime(in: "slow-closed", timeout: timeout)
    }

    /// When /silent got its request, and when its client went away; nil if not within `timeout`.
    func silentRequestAt(timeout: Duration = .seconds(60)) async throws -> Double? {
        try await firstTime(in: "silent-started", timeout: timeout)
    }

    func silentClientClosedAt(timeout: Duration = .seconds(60)) async throws -> Double? {
        try await firstTime(in: "silent-closed", timeout: timeout)
    }

    /// When /slow started answering a request; nil if none came within `timeout`.
    func slowRequestStartedAt(timeout: Duration = .seconds(60)) async throws -> Double? {
        try await firstTime(in: "slow-started", timeout: timeout)
    }

    /// How many body bytes /endless had sent when its client went away (or it gave up at 256
    /// MiB); nil if no /endless request finished within `timeout`.
    func endlessBytesSent(timeout: Duration = .seconds(60)) async throws -> Double? {
        try await firstTime(in: "endless-sent", timeout: timeout)
    }

    private func firstTime(in log: String, timeout: Duration) async throws -> Double? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: root.path(log), encoding: .utf8),
               let first = text.split(separator: "\n").first, let time = Double(first) {
                return time
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    func stop() {
        process.stop()
        root.remove()
    }

    /// The bytes /bytes/N and /nolength/N serve.
    static func pattern(_ count: Int) -> Data {
        Data((0..<count).map { UInt8($0 % 251) })
    }
}

extension FixtureHTTPServer {
    /// Runs `body` with a started server and always stops it.
    static func with<T>(
        certificate: String? = nil, key: String? = nil,
        _ body: (FixtureHTTPServer) async throws -> T
    ) async throws -> T {
        let server = try FixtureHTTPServer(certificate: certificate, key: key)
        defer { server.stop() }
        return try await body(server)
    }
}
