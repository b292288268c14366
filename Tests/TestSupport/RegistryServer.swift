import Foundation

/// A real distribution registry (`/usr/bin/docker-registry`, distribution 2.8) on
/// 127.0.0.1:<free port>, with filesystem storage in a temp dir; plain HTTP or TLS, optionally htpasswd.
public final class RegistryServer: Sendable {
    /// How the registry is served; `.tls` and `.htpasswd` combine.
    public enum Option: Sendable {
        case plainHTTP
        case tls(TestCA)
        case htpasswd(user: String, password: String)
        /// Blob GETs answer with a redirect to `baseURL` + the storage path of the blob's data
        /// (distribution's `redirect` storage middleware), as registries backed by a CDN do.
        case redirectBlobs(baseURL: String)
        /// Every request is logged (distribution's access log, in the order the answers end):
        /// read them with `requests()`.
        case accessLog
    }

    /// A user name and password accepted by the registry's htpasswd file.
    public struct Credentials: Sendable, Equatable {
        public let user: String
        public let password: String
    }

    /// "127.0.0.1:PORT".
    public let host: String
    public let port: Int
    /// "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT".
    public let baseURL: URL
    /// The CA whose certificate the registry serves, when TLS.
    public let ca: TestCA?
    public let credentials: Credentials?
    public let storagePath: String
    public let configPath: String
    public let process: ManagedProcess
    private let directory: TemporaryDirectory

    public var isTLS: Bool { ca != nil }

    /// Starts the registry and waits until GET /v2/ answers 200 (open) or 401 (auth).
    public init(_ options: [Option] = [.plainHTTP], executable: String = "/usr/bin/docker-registry") async throws {
        var ca: TestCA?
        var credentials: Credentials?
        var redirectBase: String?
        var accessLog = false
        for option in options {
            switch option {
            case .plainHTTP: break
            case .tls(let authority): ca = authority
            case .htpasswd(let user, let password): credentials = Credentials(user: user, password: password)
            case .redirectBlobs(let baseURL): redirectBase = baseURL
            case .accessLog: accessLog = true
            }
        }
        let directory = try TemporaryDirectory(prefix: "registry")
        let storagePath = directory.file("storage")
        try FileManager.default.createDirectory(atPath: storagePath, withIntermediateDirectories: true)

        var authSection = ""
        if let credentials {
            let htpasswdPath = directory.file("htpasswd")
            let line = try Shell.check(["htpasswd", "-Bbn", credentials.user, credentials.password])
            try line.trimmingCharacters(in: .whitespacesAndNewlines).appending("\n")
                .write(toFile: htpasswdPath, atomically: true, encoding: .utf8)
            authSection = """
                auth:
                  htpasswd:
                    realm: 3tofu-test
                    path: \(htpasswdPath)

                """
        }

        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            var tlsSection = ""
            if let ca {
                tlsSection = """
                      tls:
                        certificate: \(ca.serverCertPath)
                        key: \(ca.serverKeyPath)

                    """
            }
            let config = """
                version: 0.1
                log:
                  level: warn
                  accesslog:
                    disabled: \(!accessLog)
                storage:
                  filesystem:
                    rootdirectory: \(storagePath)
                  delete:
                    enabled: true
                \(redirectBase.map { "middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: \($0)\n" } ?? "")http:
                  addr: 127.0.0.1:\(port)
                  secret: 3tofu-test-secret
                \(tlsSection)\(authSection)
                """
            let configPath = directory.file("config.yml")
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let process = try ManagedProcess(
                executable: executable, arguments: ["serve", configPath],
                environment: ["OTEL_TRACES_EXPORTER": "none"],
                logPath: directory.file("registry.log")
            )
            let scheme = ca == nil ? "http" : "https"
            let baseURL = URL(string: "\(scheme)://127.0.0.1:\(port)")
            do {
                try await process.waitForPort(port, timeout: .seconds(15))
                guard let baseURL else { throw FixtureError("could not form a URL for port \(port)") }
                try await Self.waitUntilReady(baseURL: baseURL, ca: ca, process: process)
                self.host = "127.0.0.1:\(port)"
                self.port = port
                self.baseURL = baseURL
                self.ca = ca
                self.credentials = credentials
                self.storagePath = storagePath
                self.configPath = configPath
                self.process = process
                self.directory = directory
                return
            } catch {
                process.stop()
                lastError = error
                if !process.log().contains("address already in use") { break }
            }
        }
        throw lastError ?? FixtureError("docker-registry did not start")
    }

    /// Stops the registry process (SIGTERM, then SIGKILL after 3 s).
    public func stop() {
        process.stop()
    }

    /// The registry's log (warnings and errors only).
    public func log() -> String {
        process.log()
    }

    /// With `.accessLog`: every request answered so far, as "METHOD PATH STATUS", in the order
    /// the registry finished answering them.
    public func requests() -> [String] {
        log().split(separator: "\n").compactMap { line -> String? in
            // 127.0.0.1 - - [date] "GET /v2/a/b/manifests/1 HTTP/1.1" 200 1234 "" "curl/8"
            let quoted = line.split(separator: "\"", omittingEmptySubsequences: false)
            guard quoted.count >= 3 else { return nil }
            let request = quoted[1].split(separator: " ")
            let status = quoted[2].split(separator: " ").first
            guard request.count >= 2, let status, request[1].hasPrefix("/v2/") else { return nil }
            return "\(request[0]) \(request[1]) \(status)"
        }
    }

    /// curl arguments that reach this registry: CA, credentials and no ambient proxy.
    public func curlArguments() -> [String] {
        var args = ["curl", "-sS", "--noproxy", "*", "--max-time", "30"]
        if let ca { args += ["--cacert", ca.caCertPath] }
        if let credentials { args += ["-u", "\(credentials.user):\(credentials.password)"] }
        return args
    }

    private static func waitUntilReady(baseURL: URL, ca: TestCA?, process: ManagedProcess) async throws {
        var args = ["curl", "-s", "--noproxy", "*", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}"]
        if let ca { args += ["--cacert", ca.caCertPath] }
        args.append(baseURL.absoluteString + "/v2/")
        let deadline = ContinuousClock.now.advanced(by: .seconds(15))
        var lastAnswer = ""
        while ContinuousClock.now < deadline {
            let output = try Shell.run(args, timeout: .seconds(5))
            lastAnswer = "curl status \(output.status), HTTP \(output.stdout)"
            if output.stdout == "200" || output.stdout == "401" { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw FixtureError(
            "docker-registry at \(baseURL) did not answer GET /v2/ with 200 or 401 (last: \(lastAnswer)); log tail:\n\(process.logTail())"
        )
    }
}

extension RegistryServer {
    /// skopeo options to reach this registry. `prefix` is "dest" or "src" for `skopeo copy`,
    /// "" for `skopeo inspect`: TLS verification (with this CA) or plain HTTP, and credentials.
    public func skopeoOptions(prefix: String) throws -> [String] {
        let dash = prefix.isEmpty ? "--" : "--\(prefix)-"
        var options: [String] = []
        if let ca {
            options += ["\(dash)tls-verify=true", "\(dash)cert-dir", try ca.certDirectory()]
        } else {
            options += ["\(dash)tls-verify=false"]
        }
        if let credentials {
            options += ["\(dash)creds", "\(credentials.user):\(credentials.password)"]
        } else {
            options += ["\(dash)no-creds"]
        }
        return options
    }
}
