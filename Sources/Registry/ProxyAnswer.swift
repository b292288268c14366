import Foundation
import Transport

/// Whose answer an error status is when a vantage goes through an HTTP proxy: a proxy that cannot
/// reach the registry answers with its own error page (tinyproxy: "500 Unable to connect", squid:
/// 503, …), which is not the registry failing. Pure.
public enum ProxyAnswer {
    /// The failure to report instead of "the registry answered HTTP N", when `response` is the
    /// proxy's own answer: an error status on an HTTP proxy route that bears no sign of having
    /// come from beyond the proxy (no `Docker-Distribution-API-Version`, no `Via` the proxy adds
    /// to what it relays). nil when the answer is the registry's (or the route has no HTTP proxy).
    public static func proxysOwnFailure(_ response: HTTPResponse, route: String, url: String, what: String) -> RegistryError? {
        guard isHTTPProxy(route), response.status >= 500 || response.status == 407 else { return nil }
        let headers = response.headers
        guard headers["Docker-Distribution-API-Version"] == nil, headers["Via"] == nil else { return nil }
        var said: [String] = []
        if let server = headers["Server"] { said.append("Server: \(oneLine(server, limit: 60))") }
        if let title = pageTitle(response.body) { said.append("its page says \"\(title)\"") }
        let detail = said.isEmpty ? "" : " (" + said.joined(separator: "; ") + ")"
        let components = URLComponents(string: url)
        let host = components?.host.map { name in components?.port.map { "\(name):\($0)" } ?? name } ?? "the registry"
        if response.status == 407 {
            return RegistryError(.network, "\(what): the proxy \(route) refused the request (HTTP 407 Proxy Authentication Required\(detail)); give the proxy's credentials in its URL in the vantages file")
        }
        return RegistryError(
            .network,
            "\(what): the proxy \(route) answered HTTP \(response.status) itself\(detail), not the registry: "
                + "it could not reach \(host). Check that the registry is up and that the proxy can reach it (the other vantages show whether the registry answers them)")
    }

    static func isHTTPProxy(_ route: String) -> Bool {
        route.hasPrefix("http://") || route.hasPrefix("https://")
    }

    /// The `<title>` (else the first `<h1>`) of an HTML page, on one line, at most 80 characters.
    static func pageTitle(_ body: Data) -> String? {
        let text = String(decoding: body.prefix(8192), as: UTF8.self)
        for tag in ["title", "h1"] {
            guard let open = text.range(of: "<\(tag)>", options: .caseInsensitive),
                let close = text.range(of: "</\(tag)>", options: .caseInsensitive, range: open.upperBound..<text.endIndex)
            else { continue }
            let title = oneLine(String(text[open.upperBound..<close.lowerBound]), limit: 80)
            if !title.isEmpty { return title }
        }
        return nil
    }

    /// Printable ASCII only (the text comes from the network), white space collapsed, cut at `limit`.
    static func oneLine(_ text: String, limit: Int) -> String {
        let kept = text.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : " " }
        return String(String(kept).split(separator: " ").joined(separator: " ").prefix(limit))
    }
}
