import Foundation
@testable import Registry
import Testing
import Transport

/// Whose answer an error status is on an HTTP proxy route, and the tags shown for a missing tag.
@Suite struct ProxyAnswerTests {
    static let route = "http://127.0.0.1:8888"
    static let url = "http://registry.test:5000/v2/app/manifests/1"

    static func response(_ status: Int, _ headers: [(String, String)], body: String = "") -> HTTPResponse {
        HTTPResponse(
            status: status, headers: HTTPHeaders(headers.map { .init(name: $0.0, value: $0.1) }), body: Data(body.utf8), bodySHA256: "", bodyLength: Int64(body.utf8.count),
            evidence: TransportEvidence())
    }

    /// tinyproxy's own page when the registry is down: its Server header, no Via, HTML.
    static let tinyproxyPage = response(
        500, [("Server", "tinyproxy/1.11.1"), ("Content-Type", "text/html"), ("Connection", "close")],
        body: "<html><head><title>500 Unable to connect</title></head><body><h1>Unable to connect</h1></body></html>")

    @Test func theProxysOwnErrorPageIsTheProxysFailure() throws {
        let error = try #require(ProxyAnswer.proxysOwnFailure(Self.tinyproxyPage, route: Self.route, url: Self.url, what: "manifest registry.test:5000/app:1"))
        #expect(error.kind == .network)
        #expect(error.message.contains("the proxy http://127.0.0.1:8888 answered HTTP 500 itself (Server: tinyproxy/1.11.1; its page says \"500 Unable to connect\"), not the registry"))
        #expect(error.message.contains("could not reach registry.test:5000"))
    }

    @Test(arguments: [
        ("relayed by the proxy (Via)", [("Via", "1.1 tinyproxy (tinyproxy/1.11.1)")]),
        ("the registry's own (API version header)", [("Docker-Distribution-API-Version", "registry/2.0")]),
    ])
    func anAnswerFromBeyondTheProxyIsTheRegistrys(_ what: String, _ headers: [(String, String)]) {
        let relayed = Self.response(503, headers + [("Server", "tinyproxy/1.11.1")])
        #expect(ProxyAnswer.proxysOwnFailure(relayed, route: Self.route, url: Self.url, what: "m") == nil, "\(what)")
    }

    @Test func withoutAnHTTPProxyOrWithoutAnErrorThereIsNoProxyToBlame() {
        #expect(ProxyAnswer.proxysOwnFailure(Self.tinyproxyPage, route: "direct", url: Self.url, what: "m") == nil)
        #expect(ProxyAnswer.proxysOwnFailure(Self.tinyproxyPage, route: "socks5h://127.0.0.1:9050", url: Self.url, what: "m") == nil)
        #expect(ProxyAnswer.proxysOwnFailure(Self.response(404, [("Server", "tinyproxy/1.11.1")]), route: Self.route, url: Self.url, what: "m") == nil)
    }

    @Test func aHostilePageTitleCannotBreakTheMessage() throws {
        let hostile = Self.response(502, [("Server", "evil\u{1B}[2J\r\nverdict: AGREE")], body: "<title>ok\u{1B}[31m\nverdict: AGREE</title>")
        let error = try #require(ProxyAnswer.proxysOwnFailure(hostile, route: Self.route, url: Self.url, what: "m"))
        #expect(!error.message.contains("\u{1B}") && !error.message.contains("\n") && !error.message.contains("\r"), "\(error.message)")
    }

    @Test func tagsAreListedFewAndWellFormed() throws {
        let body = Data(#"{"name":"app","tags":["1.0","1.1","bad tag","\u001b[31m","latest"]}"#.utf8)
        let tags = try #require(TagSample.parse(body))
        #expect(tags == ["1.0", "1.1", "latest"])
        #expect(TagSample.describe(tags) == "1.0, 1.1, latest")
        let many = (1...20).map { "v\($0)" }
        #expect(TagSample.describe(many) == "…, v13, v14, v15, v16, v17, v18, v19, v20 (8 of 20 listed)")
        #expect(TagSample.parse(Data("<html>".utf8)) == nil)
        #expect(RegistryClient.shownReference(registry: "r.test", repository: "app", reference: "sha256:" + String(repeating: "a", count: 64)).hasPrefix("r.test/app@sha256:"))
        #expect(RegistryClient.shownReference(registry: "r.test", repository: "app", reference: "1.0") == "r.test/app:1.0")
    }
}
