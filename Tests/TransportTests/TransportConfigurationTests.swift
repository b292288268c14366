import Testing
import Transport

@Suite("TransportConfiguration validation and routes")
struct TransportConfigurationTests {
    @Test("accepted proxies and the route they report", arguments: [
        (nil, "direct"),
        ("http://127.0.0.1:3128", "http://127.0.0.1:3128"),
        ("https://proxy.example:443", "https://proxy.example:443"),
        ("socks5://127.0.0.1:1080", "socks5://127.0.0.1:1080"),
        ("socks5h://127.0.0.1:9050/", "socks5h://127.0.0.1:9050"),
        ("socks5h://tor:secret@127.0.0.1:9050", "socks5h://127.0.0.1:9050"),
        ("http://user:p%40ss@[::1]:3128", "http://[::1]:3128"),
    ] as [(String?, String)])
    func acceptedProxy(proxy: String?, route: String) throws {
        let configuration = TransportConfiguration(proxy: proxy)
        try configuration.validate()
        #expect(configuration.route == route)
    }

    @Test("refused proxies say what is wrong", arguments: [
        ("127.0.0.1:3128", "no scheme"),
        ("socks4://127.0.0.1:1080", "unsupported scheme \"socks4\""),
        ("ftp://127.0.0.1:21", "unsupported scheme \"ftp\""),
        ("http://", "names no host"),
        ("http://:3128", "names no host"),
        ("http://127.0.0.1:3128/path", "has a path"),
    ])
    func refusedProxy(proxy: String, reason: String) {
        let error = #expect(throws: TransportError.self) {
            try TransportConfiguration(proxy: proxy).validate()
        }
        #expect(error?.message.contains(reason) == true)
    }

    @Test("a refused proxy with credentials does not repeat them")
    func refusedProxyRedacted() {
        let error = #expect(throws: TransportError.self) {
            _ = try CurlTransport(configuration: TransportConfiguration(proxy: "socks4://bob:topsecret@127.0.0.1:1080"))
        }
        #expect(error?.message.contains("topsecret") == false)
    }

    @Test("numeric limits and resolve entries are checked", arguments: [
        TransportConfiguration(connectTimeout: 0),
        TransportConfiguration(lowSpeedLimit: -1),
        TransportConfiguration(maxParallelTransfers: 0),
        TransportConfiguration(resolve: ["registry.test"]),
        TransportConfiguration(resolve: ["registry.test:notaport:127.0.0.1"]),
    ])
    func refusedLimits(configuration: TransportConfiguration) {
        #expect(throws: TransportError.self) { try configuration.validate() }
    }

    @Test("the defaults are valid")
    func defaults() throws {
        let configuration = TransportConfiguration()
        try configuration.validate()
        #expect(configuration.connectTimeout == 20)
        #expect(configuration.lowSpeedLimit == 1024)
        #expect(configuration.lowSpeedTime == 30)
        #expect(configuration.userAgent == "3tofu/0.1")
        #expect(configuration.maxParallelTransfers == 4)
        #expect(configuration.resolve.isEmpty)
    }
}
