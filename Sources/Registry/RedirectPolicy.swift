import Foundation

/// Pure decision for one redirect: where to go next and whether credentials may follow.
public enum RedirectPolicy {
    public static let maximumHops = 10

    public enum Decision: Sendable, Equatable {
        case follow(url: String, keepAuthorization: Bool)
        case refuse(reason: String)
    }

    /// `insecureHosts` are `host[:port]` values allowed plain HTTP. `start` is the URL the chain
    /// began at (the registry's, or the file's the user named): a redirect to a link-local address
    /// is followed only when that URL's host is link-local itself.
    public static func decide(from current: String, location: String, insecureHosts: Set<String>, start: String) -> Decision {
        guard let base = URL(string: current), let target = URL(string: location, relativeTo: base)?.absoluteURL else {
            return .refuse(reason: "the registry redirected to '\(location.prefix(200))', which is not a URL")
        }
        guard let scheme = target.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            return .refuse(reason: "the registry redirected to a non-HTTP address (\(target.scheme ?? "no scheme")); refusing to follow")
        }
        if scheme == "http", base.scheme?.lowercased() == "https", !insecureHosts.contains(Origin(target).hostPort) {
            return .refuse(reason: "the registry redirected from https to plain http (\(Origin(target).hostPort)); refusing to downgrade. If that host is meant to be plain HTTP, pass --insecure-registry \(Origin(target).hostPort)")
        }
        if let address = LinkLocal.address(inHost: target.host ?? ""), LinkLocal.address(inHost: URL(string: start)?.host ?? "") == nil {
            let spelled = address == Origin(target).host ? "" : " (\(address))"
            return .refuse(reason: "the registry redirected to \(Origin(target).hostPort), a link-local address\(spelled); "
                + "those belong to this machine's network segment, where cloud metadata services and other local services answer, "
                + "never to a registry's download servers; refusing to follow")
        }
        return .follow(url: target.absoluteString, keepAuthorization: Origin(base) == Origin(target))
    }
}

/// Scheme, host and port of a URL, with default ports filled in.
public struct Origin: Equatable, Sendable {
    public var scheme: String
    public var host: String
    public var port: Int

    public init(_ url: URL) {
        scheme = url.scheme?.lowercased() ?? ""
        host = url.host?.lowercased() ?? ""
        port = url.port ?? (scheme == "https" ? 443 : 80)
    }

    public init?(_ string: String) {
        guard let url = URL(string: string) else { return nil }
        self.init(url)
    }

    /// `host:port` as `--insecure-registry` takes it (port omitted when it is the default).
    public var hostPort: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }
}
