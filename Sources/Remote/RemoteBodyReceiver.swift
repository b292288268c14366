import Foundation
import Transport

/// Takes the remote curl's output for one exchange: on stdout the head, which it parses, then the
/// body, which goes to the transports' shared `ResponseBodySink`; on both streams the end line
/// with this exchange's nonce, which ends the reply. Used on the connection's queue only.
final class RemoteBodyReceiver: RemoteReplyReceiver {
    private var parser = RemoteCurlReply.HeadParser()
    private let sink: ResponseBodySink
    private let shownURL: String
    private let route: String
    private var announcedChecked = false
    private var stdoutEnd: ReplyEndScanner
    private var stderrEnd: ReplyEndScanner

    init(request: HTTPRequest, destination: BodyDestination, shownURL: String, route: String, nonce: String) {
        sink = ResponseBodySink(request: request, destination: destination)
        self.shownURL = shownURL
        self.route = route
        stdoutEnd = ReplyEndScanner(endLine: RemoteCurlScript.endLine(nonce: nonce))
        stderrEnd = ReplyEndScanner(endLine: RemoteCurlScript.endLine(nonce: nonce))
    }

    /// Both streams reached this exchange's end line.
    var isComplete: Bool { stdoutEnd.found && stderrEnd.found }

    func receive(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try stdoutEnd.feed(bytes) { try self.take($0) }
        } catch is ReplyEndScanner.Overrun {
            throw TransportError(kind: .other, url: shownURL, detail: "the remote curl script on \(route) wrote more after the end of its reply")
        }
    }

    func receiveStderr(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try stderrEnd.feed(bytes) { _ in }
        } catch is ReplyEndScanner.Overrun {
            throw TransportError(kind: .other, url: shownURL, detail: "the remote curl script on \(route) wrote more after the end of its reply")
        }
    }

    var head: RemoteCurlReply.Head? { parser.head }
    var length: Int64 { sink.length }
    var body: Data { sink.body }

    private func take(_ bytes: UnsafeRawBufferPointer) throws {
        let bodyPart: UnsafeRawBufferPointer
        do {
            bodyPart = try parser.feed(bytes)
        } catch let error as RemoteCurlReply.ParseError {
            throw TransportError(kind: .other, url: shownURL, detail: error.description)
        }
        guard let head = parser.head else { return }
        try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in
            if !announcedChecked {
                announcedChecked = true
                let announced = BodyLimit.announcedLength(contentLength: head.headers["Content-Length"], transferEncoding: head.headers["Transfer-Encoding"])
                try sink.checkAnnounced(announced, status: head.status)
            }
            if bodyPart.count > 0 { try sink.take(bodyPart, status: head.status) }
        }
    }

    /// A 2xx response to a `.file` destination with an empty body still creates (or truncates) the file.
    func finishEmptyBody() throws {
        guard let head = parser.head else { return }
        try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in try sink.finishEmptyBody(status: head.status) }
    }

    func closeFile() throws {
        try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in try sink.closeFile() }
    }

    /// Lowercase hex SHA-256 of the body bytes received.
    func sha256Hex() -> String { sink.sha256Hex() }
}
