/// How many bytes a transfer waits for before libcurl is woken (the socket's `SO_RCVLOWAT`), while
/// a large HTTP/1.x body arrives. Pure: the transfer reports what arrived and when, this decides.
///
/// Behind a relay that forwards a few KiB at a time (microsocks, tinyproxy), waking for each piece
/// costs more than the bytes: a poll, a receive, a callback, a hash update. The mark lets about
/// `stepSeconds` of body gather first, at the pace seen so far, up to `maximum`. It is never higher
/// than what the body may still send less `tail` (over TLS a partial record may already sit in the
/// TLS library's buffer, so the socket may never hold all of the rest), and it drops to 1 for the
/// rest of the body once no bytes came for `patience` seconds: a route that slowed down must not
/// look stalled to libcurl's low-speed check while bytes wait unread below the mark.
struct ReceiveLowWater: Sendable, Equatable {
    /// The largest mark: a quarter of libcurl's receive buffer.
    static let largestStep = 128 * 1024

    let announcedLength: Int64
    var maximum = largestStep
    var tail: Int64 = 64 * 1024
    var stepSeconds = 0.05
    var patience = 0.25
    /// Below this a mark is not worth a system call: 1 (wake for every byte).
    var smallest = 4096

    private var firstAt: Double?
    private var lastAt = 0.0
    private var off = false

    /// A body of `announcedLength` bytes (its Content-Length).
    init(announcedLength: Int64) {
        self.announcedLength = announcedLength
    }

    /// Whether a body is worth it: HTTP/1.x framed by Content-Length alone (no Transfer-Encoding,
    /// which libcurl would frame by instead), at least four steps long.
    static func applies(isHTTP1: Bool, contentLength: String?, transferEncoding: String?, maximum: Int = largestStep) -> Int64? {
        guard isHTTP1, transferEncoding == nil, let contentLength, let length = Int64(contentLength),
              length >= 4 * Int64(maximum) else { return nil }
        return length
    }

    /// `total` body bytes have arrived by `seconds` (any monotonic clock): the mark to set now.
    mutating func arrived(total: Int64, at seconds: Double) -> Int {
        let start = firstAt ?? seconds
        firstAt = start
        lastAt = seconds
        guard !off else { return 1 }
        let usable = announcedLength - total - tail
        let elapsed = seconds - start
        guard usable >= Int64(smallest), elapsed > 0 else { return 1 }
        let step = Double(total) / elapsed * stepSeconds
        let mark = min(Double(maximum), Double(usable), step)
        return mark < Double(smallest) ? 1 : Int(mark)
    }

    /// libcurl's progress callback at `seconds` (it comes at least once a second, bytes or not):
    /// 1 for the rest of the body once none came for `patience`, else nil (keep the mark).
    mutating func tick(at seconds: Double) -> Int? {
        guard !off, firstAt != nil, seconds - lastAt >= patience else { return nil }
        off = true
        return 1
    }
}
