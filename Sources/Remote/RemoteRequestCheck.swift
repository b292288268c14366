import Transport

/// Checks a request before it is written into a remote curl config: http(s) only, no white
/// space in the URL, header names that are HTTP tokens, no line breaks or NUL in values.
/// (A line break would end the config line; quoting handles everything else.)
enum RemoteRequestCheck {
    private static let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func check(_ request: HTTPRequest) throws {
        let shownURL = removingUserInfo(request.url)
        let lowered = request.url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw TransportError(kind: .unsupportedScheme, url: shownURL, detail: "only http:// and https:// URLs can be fetched")
        }
        guard !request.url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0 == "\0" || $0.value < 0x20 || $0.value == 0x7f }) else {
            throw TransportError(kind: .other, url: shownURL, detail: "the URL contains white space or control characters; percent-encode it")
        }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.allSatisfy(tokenCharacters.contains) else {
                throw TransportError(kind: .other, url: shownURL, detail: "request header name \"\(header.name)\" is not a valid HTTP token; fix the caller")
            }
            guard !header.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw TransportError(kind: .other, url: shownURL, detail: "the value of request header \(header.name) contains a line break or NUL; refusing to send it")
            }
        }
        if let start = request.rangeStart, start < 0 {
            throw TransportError(kind: .other, url: shownURL, detail: "range start \(start) is negative")
        }
        if let maximum = request.maximumBodyLength, maximum < 0 {
            throw TransportError(kind: .other, url: shownURL, detail: "maximum body length \(maximum) is negative")
        }
    }

    /// `scheme://user:pass@host/path` becomes `scheme://host/path`.
    static func removingUserInfo(_ url: String) -> String {
        guard let separator = url.range(of: "://") else {
            return url.contains("@") ? "(URL with credentials, not shown)" : url
        }
        let afterScheme = url[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<separator.upperBound]) + String(afterScheme[afterScheme.index(after: at)...])
    }
}
