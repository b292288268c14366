/// Removes what must not be shown from URLs before they reach errors, routes, evidence or
/// reports, for every transport and the registry client. Pure.
public enum URLRedaction {
    /// `scheme://user:pass@host/path` becomes `scheme://host/path`; a URL without a scheme that
    /// contains "@" is replaced by a marker, since where its credentials end cannot be told.
    public static func removingUserInfo(_ url: String) -> String {
        guard let separator = url.range(of: "://") else {
            return url.contains("@") ? "(URL with credentials, not shown)" : url
        }
        let afterScheme = url[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<separator.upperBound]) + String(afterScheme[afterScheme.index(after: at)...])
    }

    /// A URL without its query (`?…` kept as a marker), which on CDNs carries signed, short-lived
    /// access parameters.
    public static func removingQuery(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        return String(url[..<question]) + "?…"
    }
}
