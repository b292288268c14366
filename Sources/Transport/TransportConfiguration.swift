/// How a `CurlTransport` reaches servers: its route (direct or one proxy), which CAs it trusts
/// beyond the system bundle, and its patience. One value per vantage.
public struct TransportConfiguration: Sendable, Equatable {
    /// nil = direct (ambient `*_proxy` variables are ignored). Otherwise an `http://`, `https://`,
    /// `socks5://` or `socks5h://` URL (`socks5h` resolves names at the proxy); may carry `user:pass@`.
    public var proxy: String?
    /// A PEM file of CAs trusted in addition to the system bundle, for servers and an https proxy.
    public var extraCACertificatesPath: String?
    /// Seconds allowed to establish a connection (including TLS and proxy handshakes).
    public var connectTimeout: Double
    /// A transfer slower than `lowSpeedLimit` bytes per second for `lowSpeedTime` seconds times out.
    public var lowSpeedLimit: Int
    public var lowSpeedTime: Int
    public var userAgent: String
    /// How many transfers may run at the same time; each gets its own connection(s).
    public var maxParallelTransfers: Int
    /// libcurl `CURLOPT_RESOLVE` entries such as `"registry.test:443:127.0.0.1"`.
    public var resolve: [String]

    public init(
        proxy: String? = nil,
        extraCACertificatesPath: String? = nil,
        connectTimeout: Double = 20,
        lowSpeedLimit: Int = 1024,
        lowSpeedTime: Int = 30,
        userAgent: String = "3tofu/0.1",
        maxParallelTransfers: Int = 4,
        resolve: [String] = []
    ) {
        self.proxy = proxy
        self.extraCACertificatesPath = extraCACertificatesPath
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.userAgent = userAgent
        self.maxParallelTransfers = maxParallelTransfers
        self.resolve = resolve
    }

    /// The proxy schemes libcurl is allowed to use.
    public static let proxySchemes: Set<String> = ["http", "https", "socks5", "socks5h"]

    /// "direct", or the proxy URL without its user information (safe for reports).
    public var route: String {
        guard let proxy else { return "direct" }
        return ProxyURL.redacted(proxy)
    }

    /// Checks every field; throws a `TransportError` of kind `.configuration` naming the field and the fix.
    public func validate() throws {
        if let proxy {
            try ProxyURL.validate(proxy)
        }
        if let path = extraCACertificatesPath, path.isEmpty {
            throw TransportError(configuration: "the extra CA certificates path is empty; give a PEM file or leave it out")
        }
        guard connectTimeout > 0, connectTimeout.isFinite else {
            throw TransportError(configuration: "connect timeout must be a positive number of seconds, not \(connectTimeout)")
        }
        guard lowSpeedLimit >= 0, lowSpeedTime >= 0 else {
            throw TransportError(configuration: "low speed limit (\(lowSpeedLimit) B/s) and time (\(lowSpeedTime) s) must not be negative")
        }
        guard maxParallelTransfers >= 1 else {
            throw TransportError(configuration: "max parallel transfers must be at least 1, not \(maxParallelTransfers)")
        }
        for entry in resolve {
            let parts = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            let hostPart = parts.first.map { $0.hasPrefix("-") || $0.hasPrefix("+") ? $0.dropFirst() : $0 }
            guard parts.count == 3 || (parts.count == 2 && entry.hasPrefix("-")),
                  let hostPart, !hostPart.isEmpty, Int(parts[1]) != nil
            else {
                throw TransportError(configuration: "resolve entry \"\(entry)\" is not HOST:PORT:ADDRESS (or -HOST:PORT)")
            }
        }
    }
}
