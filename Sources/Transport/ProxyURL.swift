/// Checks and redacts proxy URLs without handing them to libcurl's lenient parser.
enum ProxyURL {
    /// The lowercased scheme, the authority (without user information) and the raw user information.
    struct Parts: Equatable {
        var scheme: String
        var hostAndPort: String
        var userInfo: String?
        var rest: String
    }

    static func split(_ proxy: String) -> Parts? {
        guard let separator = proxy.range(of: "://") else { return nil }
        let scheme = proxy[..<separator.lowerBound].lowercased()
        let afterScheme = proxy[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let rest = String(afterScheme[authorityEnd...])
        if let at = authority.lastIndex(of: "@") {
            return Parts(
                scheme: scheme,
                hostAndPort: String(authority[authority.index(after: at)...]),
                userInfo: String(authority[..<at]),
                rest: rest
            )
        }
        return Parts(scheme: scheme, hostAndPort: String(authority), userInfo: nil, rest: rest)
    }

    static func validate(_ proxy: String) throws {
        let shown = redacted(proxy)
        guard let parts = split(proxy) else {
            throw TransportError(configuration: 
                "proxy \"\(shown)\" has no scheme; write it as http://, https://, socks5:// or socks5h://HOST:PORT")
        }
        guard TransportConfiguration.proxySchemes.contains(parts.scheme) else {
            throw TransportError(configuration: 
                "proxy \"\(shown)\" uses the unsupported scheme \"\(parts.scheme)\"; use http, https, socks5 or socks5h")
        }
        guard !parts.hostAndPort.isEmpty, !parts.hostAndPort.hasPrefix(":") else {
            throw TransportError(configuration: "proxy \"\(shown)\" names no host; write it as \(parts.scheme)://HOST:PORT")
        }
        guard parts.rest.isEmpty || parts.rest == "/" else {
            throw TransportError(configuration: "proxy \"\(shown)\" has a path; a proxy is only \(parts.scheme)://HOST:PORT")
        }
        guard !proxy.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw TransportError(configuration: "proxy \"\(shown)\" contains white space")
        }
    }

    /// The proxy URL with any `user:password@` removed (and no trailing slash).
    static func redacted(_ proxy: String) -> String {
        let shown = URLRedaction.removingUserInfo(proxy)
        return shown.hasSuffix("/") && shown.contains("://") ? String(shown.dropLast()) : shown
    }
}
