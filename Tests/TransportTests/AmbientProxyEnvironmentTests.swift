import Foundation
import Testing
import Transport

/// Mutates the process environment, so its tests run one at a time and restore what they change.
/// The dead proxy is only set for a moment and only for loopback targets; Go tools (skopeo)
/// never proxy loopback addresses, so concurrently running suites are not disturbed.
@Suite("Ambient proxy variables do not reroute a transport", .serialized)
struct AmbientProxyEnvironmentTests {
    static let variables = ["http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"]

    /// Runs `body` with every proxy variable pointing at `proxy`, then restores the environment.
    private func withAmbientProxy<T>(_ proxy: String, _ body: () async throws -> T) async rethrows -> T {
        let saved = Self.variables.map { ($0, ProcessInfo.processInfo.environment[$0]) }
        for name in Self.variables { setenv(name, proxy, 1) }
        defer {
            for (name, value) in saved {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
        return try await body()
    }

    @Test("a dead proxy in the environment breaks plain curl but not a direct transport")
    func directIgnoresEnvironment() async throws {
        let ca = try LocalCA()
        defer { ca.remove() }
        let dead = "http://127.0.0.1:\(try LoopbackPort.free())"
        try await FixtureHTTPServer.with { plain in
            try await FixtureHTTPServer.with(certificate: ca.chain, key: ca.leafKey) { secure in
                // Control: the curl CLI honours the variable and fails (exit 7 = could not connect).
                let control = try Subprocess.run(
                    "/usr/bin/curl", ["-s", "-o", "/dev/null", plain.url("/bytes/1")],
                    environment: ["http_proxy": dead, "PATH": "/usr/bin:/bin"])
                #expect(control.status == 7)

                try await withAmbientProxy(dead) {
                    let transport = try CurlTransport(configuration: TransportConfiguration(extraCACertificatesPath: ca.caCertificate))
                    let viaHTTP = try await transport.perform(HTTPRequest(url: plain.url("/bytes/10")), into: .discard)
                    let viaHTTPS = try await transport.perform(HTTPRequest(url: secure.url("/bytes/10")), into: .discard)
                    #expect(viaHTTP.status == 200)
                    #expect(viaHTTPS.status == 200)
                }
            }
        }
    }

    @Test("an environment proxy does not replace the configured one")
    func configuredProxyWins() async throws {
        let proxy = try LocalProxy(.tinyproxy)
        defer { proxy.stop() }
        let dead = "http://127.0.0.1:\(try LoopbackPort.free())"
        try await FixtureHTTPServer.with { server in
            try await withAmbientProxy(dead) {
                let transport = try CurlTransport(configuration: TransportConfiguration(proxy: proxy.url))
                let response = try await transport.perform(HTTPRequest(url: server.url("/echo")), into: .memory(limit: 65536))
                #expect(response.headers["via"]?.contains("tinyproxy") == true)
            }
        }
    }
}
