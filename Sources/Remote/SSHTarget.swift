import Foundation

/// Where and how to reach one SSH vantage: host, port, user, credentials, the known_hosts file
/// that must vouch for the host key, and how patient to be.
public struct SSHTarget: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    /// A private key file (ed25519, ecdsa, rsa); nil = authenticate with ssh-agent.
    public var identity: String?
    /// The OpenSSH known_hosts file (plain or hashed entries) that must list the host's key.
    public var knownHosts: String
    /// The passphrase of `identity`, if it is encrypted.
    public var passphrase: String?
    /// Seconds allowed for TCP connect, handshake and authentication.
    public var connectTimeout: Double
    /// A command that makes no progress (no byte in or out) for this many seconds is abandoned.
    public var idleTimeout: Double
    /// Seconds between SSH keepalive messages while the session waits.
    public var keepaliveInterval: Int

    public init(
        host: String, port: Int = 22, user: String, identity: String? = nil, knownHosts: String, passphrase: String? = nil,
        connectTimeout: Double = 20, idleTimeout: Double = 120, keepaliveInterval: Int = 15
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.identity = identity
        self.knownHosts = knownHosts
        self.passphrase = passphrase
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.keepaliveInterval = keepaliveInterval
    }

    /// The environment variable that holds the passphrase of an encrypted identity file.
    public static let passphraseVariable = "THREETOFU_SSH_PASSPHRASE"

    /// "ssh://user@host:port" (IPv6 literals in brackets), for routes in reports.
    public var route: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "ssh://\(user)@\(shownHost):\(port)"
    }

    /// The `ssh-keyscan` line that adds this host's keys to `knownHosts`.
    public var keyscanCommand: String {
        "ssh-keyscan -p \(port) \(host) >> \(knownHosts)"
    }
}
