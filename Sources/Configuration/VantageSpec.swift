/// One vantage point as configured: how it reaches the network.
public struct VantageSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// This machine, direct.
        case local
        /// This machine through an HTTP, HTTPS or SOCKS5 proxy (Tor is a SOCKS5 proxy).
        case proxy
        /// A remote host reached over SSH that does its own fetching.
        case ssh
    }

    /// Which program does the fetching on an SSH vantage.
    public enum Agent: String, Sendable, CaseIterable {
        case curl
        case threeTofu = "3tofu"
    }

    public var name: String
    public var kind: Kind
    /// `kind = "proxy"`: http://, https://, socks5:// or socks5h:// URL.
    public var proxy: String?
    /// `kind = "ssh"`.
    public var host: String?
    public var port: Int
    public var user: String?
    public var identity: String?
    public var knownHosts: String?
    public var agent: Agent
    /// Optional DNS-over-HTTPS resolver URL for this vantage.
    public var doh: String?
    /// Optional extra CA bundle for this vantage only.
    public var caCert: String?

    public init(
        name: String, kind: Kind, proxy: String? = nil, host: String? = nil, port: Int = 22, user: String? = nil,
        identity: String? = nil, knownHosts: String? = nil, agent: Agent = .curl, doh: String? = nil, caCert: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.proxy = proxy
        self.host = host
        self.port = port
        self.user = user
        self.identity = identity
        self.knownHosts = knownHosts
        self.agent = agent
        self.doh = doh
        self.caCert = caCert
    }

    /// The single vantage used when no vantages file exists: this machine, direct.
    public static let thisMachine = VantageSpec(name: "local", kind: .local)
}
