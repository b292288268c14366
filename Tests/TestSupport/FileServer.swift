import Foundation

/// A plain HTTP file server (python3) on 127.0.0.1 that serves `root` and records, for every
/// request, the path and whether it carried an `Authorization` header. Used as the "CDN" a
/// registry redirects blob downloads to.
public final class FileServer: Sendable {
    public let port: Int
    public let process: ManagedProcess
    private let requestLogPath: String
    private let directory: TemporaryDirectory

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public struct Request: Sendable, Equatable {
        public let path: String
        public let hadAuthorization: Bool
    }

    public init(root: String) async throws {
        let directory = try TemporaryDirectory(prefix: "fileserver")
        let script = directory.file("serve.py")
        let requestLog = directory.file("requests.log")
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let port = try FreePort.pick()
        let process = try ManagedProcess(
            executable: try Shell.resolveExecutable("python3"),
            arguments: [script, root, String(port), requestLog],
            logPath: directory.file("server.log"))
        try await process.waitForPort(port)
        self.port = port
        self.process = process
        self.requestLogPath = requestLog
        self.directory = directory
    }

    public func requests() -> [Request] {
        guard let text = try? String(contentsOfFile: requestLogPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return Request(path: String(parts[1]), hadAuthorization: parts[0] == "auth")
        }
    }

    public func stop() { process.stop() }

    private static let script = #"""
        import http.server, os, sys
        root, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=root, **k)
            def do_GET(self):
                with open(log, "a") as f:
                    f.write(("auth " if self.headers.get("Authorization") else "none ") + self.path + "\n")
                super().do_GET()
            def guess_type(self, path):
                return "application/octet-stream"
        http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
        """#
}
