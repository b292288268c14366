import Foundation

/// A real proxy on 127.0.0.1: tinyproxy (HTTP, CONNECT) or microsocks (SOCKS5).
final class LocalProxy: @unchecked Sendable {
    enum Kind { case tinyproxy, microsocks }

    let kind: Kind
    let port: Int
    private let process: BackgroundProcess
    private let folder: TemporaryFolder

    init(_ kind: Kind) throws {
        self.kind = kind
        folder = try TemporaryFolder()
        let port = try LoopbackPort.free()
        switch kind {
        case .tinyproxy:
            // No ConnectPort lines: CONNECT is allowed to every port.
            let config = folder.path("tinyproxy.conf")
            try """
                Port \(port)
                Listen 127.0.0.1
                Timeout 30
                Allow 127.0.0.1
                LogLevel Critical
                MaxClients 50
                """.write(toFile: config, atomically: true, encoding: .utf8)
            process = try BackgroundProcess("/usr/bin/tinyproxy", ["-d", "-c", config])
        case .microsocks:
            process = try BackgroundProcess("/usr/bin/microsocks", ["-i", "127.0.0.1", "-p", "\(port)"])
        }
        self.port = port
        do {
            try LoopbackPort.waitUntilListening(port)
        } catch {
            process.stop()
            folder.remove()
            throw error
        }
    }

    /// The proxy URL for `TransportConfiguration.proxy`.
    var url: String {
        switch kind {
        case .tinyproxy: return "http://127.0.0.1:\(port)"
        case .microsocks: return "socks5h://127.0.0.1:\(port)"
        }
    }

    func stop() {
        process.stop()
        folder.remove()
    }
}
