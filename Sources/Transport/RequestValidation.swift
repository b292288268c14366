/// Checks a request before any transport sends it (libcurl here; the SSH vantages' remote curl
/// config and `3tofu agent` in Remote): http(s) only, no white space or control character in the
/// URL, header names that are HTTP tokens, no line break or NUL in a header value, no negative
/// range start or maximum. One check for every transport, so a request one of them refuses is
/// refused by all. Errors name the offending header, never its value. Pure.
public enum RequestValidation {
    private static let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    public static func check(_ request: HTTPRequest) throws(TransportError) {
        let shownURL = URLRedaction.removingUserInfo(request.url)
        let lowered = request.url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw TransportError(
                kind: .unsupportedScheme, url: shownURL,
                detail: "only http:// and https:// URLs can be fetched")
        }
        // A line break would end a remote curl config line; any other control character has no
        // place in a URL either (percent-encoded it is harmless).
        guard !request.url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) else {
            throw TransportError(kind: .other, url: shownURL, detail: "the URL contains white space or control characters; percent-encode it")
        }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.allSatisfy(tokenCharacters.contains) else {
                throw TransportError(
                    kind: .other, url: shownURL,
                    detail: "request header name \"\(header.name)\" is not a valid HTTP token; fix the caller")
            }
            guard !header.value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw TransportError(
                    kind: .other, url: shownURL,
                    detail: "the value of request header \(header.name) contains a line break or NUL; refusing to send it")
            }
        }
        if let start = request.rangeStart, start < 0 {
            throw TransportError(kind: .other, url: shownURL, detail: "range start \(start) is negative")
        }
        if let maximum = request.maximumBodyLength, maximum < 0 {
            throw TransportError(kind: .other, url: shownURL, detail: "maximum body length \(maximum) is negative")
        }
    }
}
