import Foundation

/// How many body bytes one response may carry under `HTTPRequest.maximumBodyLength`, and the
/// checks every transport makes against it before it takes more: libcurl here, and on an SSH
/// vantage both the local side and the remote (the remote curl script, `3tofu agent`). Pure.
///
/// A 2xx body may carry the request's maximum, a 206 the maximum minus the range start (what a
/// partial file of `rangeStart` bytes may still grow by); other statuses are not limited here
/// (their bodies are error text, capped by each transport). A length announced above the limit
/// is refused before the body is read; a body that runs past it is stopped before the bytes
/// that would pass it are taken.
public struct BodyLimit: Sendable, Equatable {
    /// Bytes this response's body may have.
    public let bytes: Int64
    /// The whole resource's maximum, as the request gave it.
    public let resource: Int64
    /// Where the body starts in the resource (0 without a range).
    public let offset: Int64

    /// The limit for a response with `status` to `request`; nil when there is none.
    public init?(request: HTTPRequest, status: Int) {
        guard let maximum = request.maximumBodyLength, (200...299).contains(status) else { return nil }
        let offset = status == 206 ? max(0, request.rangeStart ?? 0) : 0
        self.resource = maximum
        self.offset = offset
        self.bytes = max(0, maximum - offset)
    }

    /// Whether a body of `announced` bytes (a Content-Length, an agent's head) is refused at once.
    public func refuses(announced: Int64) -> Bool { announced > bytes }

    /// Whether `count` more bytes after `received` would pass the limit.
    public func refuses(received: Int64, adding count: Int) -> Bool { received > bytes - Int64(count) }

    /// The length a `Content-Length` field announces for a body; nil when absent, unreadable, or
    /// overridden by `Transfer-Encoding` (chunked framing wins, RFC 9112).
    public static func announcedLength(contentLength: String?, transferEncoding: String?) -> Int64? {
        guard transferEncoding == nil, let text = contentLength?.trimmingCharacters(in: .whitespaces) else { return nil }
        return Int64(text)
    }

    /// The error for a body refused by this limit: announced (`announced` bytes) or cut off.
    public func error(url: String, announced: Int64? = nil, via route: String? = nil) -> TransportError {
        let allowed = offset > 0
            ? "the \(bytes) bytes left after byte \(offset) of the \(resource) expected"
            : "the \(bytes) bytes expected"
        let how = announced.map { "announced \($0) bytes, more than \(allowed); refused before reading it" }
            ?? "sent more than \(allowed); stopped there, nothing past them was kept"
        let who = route.map { "the server (via \($0))" } ?? "the server"
        return TransportError(kind: .bodyTooLarge, url: url, detail: "\(who) \(how)")
    }
}
