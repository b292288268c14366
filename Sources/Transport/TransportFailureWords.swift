import Foundation

/// The words a failed exchange is told in, the same whichever transport ran it (libcurl here, curl
/// or `3tofu agent` on an SSH host): what failed, and what to do. Pure.
public enum TransportFailureWords {
    /// "TLS verification or handshake failed", …
    public static func summary(_ kind: TransportError.Kind) -> String {
        switch kind {
        case .dns: "name resolution failed"
        case .connect: "connection failed"
        case .tls: "TLS verification or handshake failed"
        case .timeout: "the transfer timed out"
        case .proxy: "the proxy failed"
        case .bodyTooLarge: "the response body is too large"
        case .io: "writing the body failed"
        case .unsupportedScheme: "unsupported URL scheme"
        case .other: "the transfer failed"
        case .badURL: "the URL is malformed"
        case .configuration: "the transport's settings cannot work"
        }
    }

    /// A TLS failure's advice. `sshRoute`: the failure happened on that SSH host, whose CA store
    /// is its own.
    public static let tlsAdvice = "if the server (or https proxy) uses a private CA, pass it with --ca-cert FILE (every vantage, SSH hosts included) "
        + "or set ca_cert = \"FILE\" on this vantage in the vantages file; otherwise this route may be intercepted"

    /// True when TLS failed because the server answered the handshake in plain HTTP (OpenSSL reads
    /// "HTTP/1.1 400" as a record of an unknown version): the server does not speak TLS on that
    /// port at all, which is no interception.
    public static func isPlainHTTPAnswer(_ tlsErrorText: String) -> Bool {
        let text = tlsErrorText.lowercased()
        return text.contains("wrong version number") || text.contains("http request") && text.contains("https")
    }

    /// The whole message for a TLS handshake answered in plain HTTP by the server at `url`.
    public static func plainHTTPAnswer(url: String, via: String) -> String {
        let hostPort = Self.hostPort(url) ?? "HOST[:PORT]"
        return "\(hostPort) answered the TLS handshake in plain HTTP\(via): it speaks plain HTTP, not HTTPS, on that port (this is not interception). "
            + "If that registry is meant to be plain HTTP (a local or test registry), pass --insecure-registry \(hostPort); otherwise check the port"
    }

    /// The words of a TLS failure: plain HTTP where that is what happened, else the summary and `tlsAdvice`.
    public static func tls(url: String, via: String, reason: String) -> String {
        if isPlainHTTPAnswer(reason) { return plainHTTPAnswer(url: url, via: via) + " (\(reason))" }
        return "\(summary(.tls))\(via): \(reason); \(tlsAdvice)"
    }

    /// `host[:port]` of a URL, as --insecure-registry takes it (the port only when the URL names one).
    static func hostPort(_ url: String) -> String? {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else { return nil }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return components.port.map { "\(shownHost):\($0)" } ?? shownHost
    }
}
