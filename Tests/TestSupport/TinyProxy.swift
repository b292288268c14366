import Foundation

/// A real HTTP proxy (`tinyproxy`) on 127.0.0.1:<free port>. CONNECT is allowed to any port
/// (the config has no `ConnectPort` line). Its log records every request, so tests can check
/// that traffic went through it.
public final class TinyProxy: Sendable {
    public let port: Int
    /// "http://127.0.0.1:PORT".
    public let url: String
    public let logPath: String
    public let configPath: String
    public let process: ManagedProcess
    private let directory: TemporaryDirectory

    /// Starts tinyproxy in the foreground and waits until its port accepts connections.
    public init(executable: String = "tinyproxy") async throws {
        let directory = try TemporaryDirectory(prefix: "tinyproxy")
        let logPath = directory.file("tinyproxy.log")
        let configPath = directory.file("tinyproxy.conf")
        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            // No ConnectPort line: tinyproxy.conf(5) says all ports are then allowed for CONNECT.
            let config = """
                Port \(port)
                Listen 127.0.0.1
                Allow 127.0.0.1
                Timeout 120
                MaxClients 64
                DisableViaHeader No
                LogLevel Info
                LogFile "\(logPath)"

                """
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let process = try ManagedProcess(
                executable: executable, arguments: ["-d", "-c", configPath],
                logPath: directory.file("tinyproxy.stdout")
            )
            do {
                try await process.waitForPort(port, timeout: .seconds(10))
                self.port = port
                self.url = "http://127.0.0.1:\(port)"
                self.logPath = logPath
                self.configPath = configPath
                self.process = process
                self.directory = directory
                return
            } catch {
                process.stop()
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                lastError = FixtureError("\(error)\ntinyproxy log:\n\(log.suffix(2000))")
                if !log.contains("Address already in use") { break }
            }
        }
        throw lastError ?? FixtureError("tinyproxy did not start")
    }

    /// tinyproxy's log file: lines such as `Request (file descriptor 5): CONNECT 127.0.0.1:5000 HTTP/1.1`.
    public func requestLog() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The request lines (`CONNECT host:port HTTP/1.1`, `GET http://... HTTP/1.1`) seen so far.
    public func requests() -> [String] {
        requestLog().split(separator: "\n").compactMap { line in
            guard line.contains("Request (file descriptor"), let range = line.range(of: "): ") else { return nil }
            return String(line[range.upperBound...])
        }
    }

    /// Stops tinyproxy (SIGTERM, then SIGKILL after 3 s).
    public func stop() {
        process.stop()
    }
}
