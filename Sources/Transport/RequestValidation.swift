/// Checks a request before it reaches libcurl: scheme and header syntax (no header injection).
/// Errors name the offending header, never its value.
enum RequestValidation {
    private static let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func check(_ request: HTTPRequest) throws {
        let shownURL = URLRedaction.removingUserInfo(request.url)
        let lowered = request.url.lowercased()
        guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
            throw TransportError(
                kind: .unsupportedScheme, url: shownURL,
                detail: "only http:// and https:// URLs can be fetched")
        }
        guard !request.url.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw TransportError(kind: .other, url: shownURL, detail: "the URL contains white space; percent-encode it")
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
