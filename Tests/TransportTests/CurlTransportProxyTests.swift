import Foundation
import Testing
import Transport

@Suite("CurlTransport through real proxies")
struct CurlTransportProxyTests {
    @Test("plain http goes through tinyproxy (it adds Via both ways)")
    func httpProxyForwarding() async throws {
        let proxy = try LocalProxy(.tinyproxy)
        defer { proxy.stop() }
        try await FixtureHTTPServer.with { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(proxy: proxy.url))
            #expect(transport.route == proxy.url)
            let response = try await transport.perform(HTTPRequest(url: server.url("/echo")), into: .memory(limit: 65536))
            let seen = try JSONDecoder().decode([String: String].self, from: response.body)
            #expect(response.status == 200)
            #expect(response.headers["via"]?.contains("tinyproxy") == true)
            #expect(seen["via"]?.contains("tinyproxy") == true)
        }
    }

    @Test("https tunnels through tinyproxy with CONNECT; TLS is end to end")
    func httpProxyConnect() async throws {
        let proxy = try LocalProxy(.tinyproxy)
        defer { proxy.stop() }
        let ca = try LocalCA()
        defer { ca.remove() }
        let leaf = try LocalCA.fingerprint(of: ca.leafCertificate)
        try await FixtureHTTPServer.with(certificate: ca.chain, key: ca.leafKey) { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(
                proxy: proxy.url, extraCACertificatesPath: ca.caCertificate))
            let response = try await transport.perform(HTTPRequest(url: server.url("/echo")), into: .memory(limit: 65536))
            let seen = try JSONDecoder().decode([String: String].self, from: response.body)
            #expect(response.status == 200)
            #expect(response.evidence.certificateSHA256.first == leaf)
            // Inside a tunnel the proxy cannot add headers, and CONNECT's own headers are suppressed.
            #expect(seen["via"] == nil)
            #expect(response.headers["via"] == nil)

            proxy.stop()
            let error = await #expect(throws: TransportError.self) {
                try await transport.perform(HTTPRequest(url: server.url("/echo")), into: .discard)
            }
            #expect(error?.kind == .proxy)
        }
    }

    @Test("socks5h goes through microsocks, and fails (no direct fallback) once it stops")
    func socksProxy() async throws {
        let proxy = try LocalProxy(.microsocks)
        defer { proxy.stop() }
        try await FixtureHTTPServer.with { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(proxy: proxy.url))
            #expect(transport.route == "socks5h://127.0.0.1:\(proxy.port)")
            let response = try await transport.perform(HTTPRequest(url: server.url("/bytes/100")), into: .memory(limit: 1000))
            #expect(response.status == 200)
            #expect(response.body == FixtureHTTPServer.pattern(100))

            proxy.stop()
            let error = await #expect(throws: TransportError.self) {
                try await transport.perform(HTTPRequest(url: server.url("/bytes/100")), into: .memory(limit: 1000))
            }
            #expect(error?.kind == .proxy)
            #expect(error?.detail.contains("socks5h://127.0.0.1:\(proxy.port)") == true)

            // The server is still there: only the route is gone.
            let direct = try CurlTransport(configuration: TransportConfiguration())
            let stillUp = try await direct.perform(HTTPRequest(url: server.url("/bytes/100")), into: .discard)
            #expect(stillUp.status == 200)
        }
    }

    @Test("proxy credentials never reach the route or errors")
    func proxyCredentialsRedacted() async throws {
        let port = try LoopbackPort.free()
        let transport = try CurlTransport(configuration: TransportConfiguration(proxy: "http://alice:pa55word@127.0.0.1:\(port)"))
        #expect(transport.route == "http://127.0.0.1:\(port)")
        let error = await #expect(throws: TransportError.self) {
            try await transport.perform(HTTPRequest(url: "http://127.0.0.1:1/"), into: .discard)
        }
        #expect(error?.kind == .proxy)
        #expect(error?.description.contains("pa55word") == false)
        #expect(error?.description.contains("alice") == false)
    }
}
