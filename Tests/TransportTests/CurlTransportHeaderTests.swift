import Foundation
import Testing
import Transport

@Suite("CurlTransport headers, requests and evidence")
struct CurlTransportHeaderTests {
    let transport: CurlTransport

    init() throws {
        transport = try CurlTransport(configuration: TransportConfiguration())
    }

    private func echo(_ response: HTTPResponse) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: response.body)
    }

    @Test("request headers are sent; user agent is ours; no Accept-Encoding is asked for")
    func requestHeaders() async throws {
        try await FixtureHTTPServer.with { server in
            let request = HTTPRequest(url: server.url("/echo"), headers: [
                (name: "Accept", value: "application/vnd.oci.image.index.v1+json"),
                (name: "X-Test", value: "one"),
            ])
            let seen = try echo(try await transport.perform(request, into: .memory(limit: 65536)))
            #expect(seen["accept"] == "application/vnd.oci.image.index.v1+json")
            #expect(seen["x-test"] == "one")
            #expect(seen["user-agent"] == "3tofu/0.1")
            #expect(seen["accept-encoding"] == nil)
            #expect(seen["range"] == nil)
        }
    }

    @Test("rangeStart sends Range: bytes=N-")
    func rangeHeader() async throws {
        try await FixtureHTTPServer.with { server in
            let request = HTTPRequest(url: server.url("/echo"), rangeStart: 1234)
            let seen = try echo(try await transport.perform(request, into: .memory(limit: 65536)))
            #expect(seen["range"] == "bytes=1234-")
        }
    }

    @Test("rate-limit headers are collected as evidence, other headers are not")
    func rateLimit() async throws {
        try await FixtureHTTPServer.with { server in
            let response = try await transport.perform(HTTPRequest(url: server.url("/ratelimit")), into: .memory(limit: 1024))
            #expect(response.evidence.rateLimit == [
                "ratelimit-limit": "100;w=21600",
                "ratelimit-remaining": "99;w=21600",
                "docker-ratelimit-source": "203.0.113.9",
                "x-ratelimit-reset": "60",
            ])
            #expect(response.headers["x-other"] == "not a rate limit")
        }
    }

    @Test("headers of an interim 1xx response are dropped")
    func interimResponse() async throws {
        try await FixtureHTTPServer.with { server in
            let response = try await transport.perform(HTTPRequest(url: server.url("/early-hints")), into: .memory(limit: 1024))
            #expect(response.status == 200)
            #expect(response.headers["X-Final"] == "yes")
            #expect(response.headers["X-Interim"] == nil)
            #expect(response.headers["Link"] == nil)
            #expect(response.body == Data("final".utf8))
        }
    }

    @Test("redirects are returned to the caller, not followed")
    func redirectNotFollowed() async throws {
        try await FixtureHTTPServer.with { server in
            let response = try await transport.perform(HTTPRequest(url: server.url("/redirect")), into: .memory(limit: 1024))
            #expect(response.status == 302)
            #expect(response.headers["location"] == "/bytes/10")
            #expect(response.evidence.effectiveURL == server.url("/redirect"))
            #expect(response.body == Data("moved".utf8))
        }
    }

    @Test("HEAD returns headers without a body")
    func head() async throws {
        try await FixtureHTTPServer.with { server in
            let response = try await transport.perform(HTTPRequest(method: .head, url: server.url("/bytes/4096")), into: .memory(limit: 1024))
            #expect(response.status == 200)
            #expect(response.headers["content-length"] == "4096")
            #expect(response.bodyLength == 0)
            #expect(response.body.isEmpty)
        }
    }

    @Test("evidence names the peer, the URL, the HTTP version and plausible timings")
    func evidence() async throws {
        try await FixtureHTTPServer.with { server in
            let response = try await transport.perform(HTTPRequest(url: server.url("/bytes/10")), into: .memory(limit: 1024))
            let evidence = response.evidence
            #expect(evidence.remoteIP == "127.0.0.1")
            #expect(evidence.effectiveURL == server.url("/bytes/10"))
            #expect(evidence.httpVersion == "1.1")
            #expect(evidence.certificateSHA256.isEmpty)
            #expect(evidence.timings.total > 0)
            #expect(evidence.timings.total >= evidence.timings.firstByte)
            #expect(evidence.timings.firstByte >= evidence.timings.connect)
        }
    }

    @Test("the route of a direct transport is \"direct\"")
    func directRoute() {
        #expect(transport.route == "direct")
    }
}
