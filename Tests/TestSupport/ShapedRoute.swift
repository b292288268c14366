import Foundation

/// A route of given bandwidth and delay in front of a real server (a proxy): bench/shaper.py, the
/// userspace relay `make bench` shapes its WAN with, on 127.0.0.1:<free port>. With
/// `dieAfterBytes`, the route resets every connection once it has carried that many bytes toward
/// the client, and refuses new ones (a route failing midway). Connections from `passFrom` (a
/// proxy's own outgoing address) are relayed unshaped: that proxy's route is shaped in front of it.
public final class ShapedRoute: Sendable {
    public let port: Int
    public let process: ManagedProcess

    static var scriptPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("bench/shaper.py").path
    }

    public init(upstreamPort: Int, megabytesPerSecond: Double, rttMilliseconds: Double, dieAfterBytes: Int = 0, passFrom: [String] = [], in directory: TemporaryDirectory) async throws {
        let port = try FreePort.pick()
        let config: [String: Any] = ["routes": [[
            "name": "route", "listen": port, "upstream": upstreamPort, "mbps": megabytesPerSecond,
            "rtt_ms": rttMilliseconds, "die_after_bytes": dieAfterBytes, "pass_from": passFrom,
        ]]]
        let path = directory.file("route-\(port).json")
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: path))
        process = try ManagedProcess(executable: "python3", arguments: [Self.scriptPath, path])
        try await process.waitForPort(port, timeout: .seconds(10))
        self.port = port
    }

    /// "http://127.0.0.1:PORT" or "socks5h://127.0.0.1:PORT": the route as a vantage's proxy.
    public func url(scheme: String) -> String { "\(scheme)://127.0.0.1:\(port)" }

    public func stop() { process.stop() }
}
