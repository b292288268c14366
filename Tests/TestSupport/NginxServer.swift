import Foundation

/// A real HTTP server (`nginx`, Debian's package) on 127.0.0.1:<free port> serving `root` as
/// static files: the formula API and release-file host of the bottle and fetch tests.
/// `locations` is extra nginx configuration inside the server block (e.g. redirects). With
/// `tls`, it serves https with that CA's server certificate (127.0.0.1 and localhost). Every
/// request that carries an `Authorization` header is also logged, header and all
/// (`authorizationLog()`).
public final class NginxServer: Sendable {
    public let port: Int
    /// "http://127.0.0.1:PORT", or "https://127.0.0.1:PORT" with `tls`.
    public let baseURL: String
    public let root: String
    public let process: ManagedProcess
    private let directory: TemporaryDirectory

    public init(root: String, locations: String = "", tls: TestCA? = nil, executable: String = "nginx") async throws {
        let directory = try TemporaryDirectory(prefix: "nginx")
        for sub in ["tmp", "logs"] {
            try FileManager.default.createDirectory(atPath: directory.file(sub), withIntermediateDirectories: true)
        }
        let resolved = try Shell.resolveExecutable(executable)
        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            let temp = directory.file("tmp")
            let user = getuid() == 0 ? "user root;\n" : ""
            let listen = tls.map {
                "listen 127.0.0.1:\(port) ssl; ssl_certificate \($0.serverCertPath); ssl_certificate_key \($0.serverKeyPath);"
            } ?? "listen 127.0.0.1:\(port);"
            let config = """
                \(user)worker_processes 1;
                daemon off;
                pid \(directory.file("nginx.pid"));
                error_log \(directory.file("logs/error.log")) warn;
                events { worker_connections 128; }
                http {
                    access_log \(directory.file("logs/access.log"));
                    map $http_authorization $tofu_has_authorization { "" 0; default 1; }
                    log_format tofu_authorization '$request_method $uri $http_authorization';
                    access_log \(directory.file("logs/authorization.log")) tofu_authorization if=$tofu_has_authorization;
                    client_body_temp_path \(temp)/body;
                    proxy_temp_path \(temp)/proxy;
                    fastcgi_temp_path \(temp)/fastcgi;
                    uwsgi_temp_path \(temp)/uwsgi;
                    scgi_temp_path \(temp)/scgi;
                    types { application/json json; text/plain txt; }
                    default_type application/octet-stream;
                    server {
                        \(listen)
                        server_name localhost;
                        root \(root);
                \(locations)
                    }
                }

                """
            let configPath = directory.file("nginx-\(port).conf")
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let process = try ManagedProcess(
                executable: resolved, arguments: ["-e", directory.file("logs/error.log"), "-p", directory.path, "-c", configPath],
                logPath: directory.file("nginx-\(port).log"))
            do {
                try await process.waitForPort(port, timeout: .seconds(10))
                self.port = port
                self.baseURL = "\(tls == nil ? "http" : "https")://127.0.0.1:\(port)"
                self.root = root
                self.process = process
                self.directory = directory
                return
            } catch {
                process.stop()
                let log = (try? String(contentsOfFile: directory.file("logs/error.log"), encoding: .utf8)) ?? ""
                lastError = FixtureError("\(error)\nnginx error log:\n\(log.suffix(2000))")
                if !log.contains("Address already in use") { break }
            }
        }
        throw lastError ?? FixtureError("nginx did not start")
    }

    /// The request lines nginx logged so far (`GET /path HTTP/1.1` …).
    public func accessLog() -> String {
        (try? String(contentsOfFile: directory.file("logs/access.log"), encoding: .utf8)) ?? ""
    }

    /// `METHOD /path AUTHORIZATION` for every request that carried an Authorization header.
    public func authorizationLog() -> [String] {
        let text = (try? String(contentsOfFile: directory.file("logs/authorization.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    public func stop() { process.stop() }

    deinit { stop() }

    /// `locations` for a registry behind a Bearer login: a token service at /token that hands out
    /// `token`, and under /v2/ a 401 with a challenge naming it for any request without that
    /// token; a request with it gets `authorized` (e.g. `proxy_pass http://HOST;`).
    public static func bearerGate(token: String, authorized: String) -> String {
        """
        location = /token {
            default_type application/json;
            return 200 '{"token": "\(token)", "expires_in": 300}';
        }
        location /v2/ {
            if ($http_authorization != "Bearer \(token)") {
                add_header WWW-Authenticate 'Bearer realm="https://$host:$server_port/token",service="gate"' always;
                return 401;
            }
            \(authorized)
        }
        """
    }
}
