import Foundation
import Transport

/// Takes `3tofu agent`'s stdout for one exchange: the JSON head line, then the body, which goes
/// where the `BodyDestination` says, hashed on the way. Bytes beyond the announced body length
/// are a protocol error. The body goes through the transports' shared `ResponseBodySink`. Used on
/// the connection's queue only.
final class AgentReplyReceiver: RemoteReplyReceiver {
    private let shownURL: String
    private let route: String
    private var headBuffer = Data()
    private(set) var head: AgentProtocol.ReplyHead?
    private let sink: ResponseBodySink
    /// Mode `hash`: no body follows the head.
    private let hashedOnRemote: Bool

    init(request: HTTPRequest, destination: BodyDestination, shownURL: String, route: String) {
        sink = ResponseBodySink(request: request, destination: destination)
        self.shownURL = shownURL
        self.route = route
        hashedOnRemote = RemoteExchange.bodyTravel(request, into: destination).hashOnRemote
    }

    /// The head arrived and, in mode `stream`, as many body bytes as it announced: the agent
    /// waits for the next request.
    var isComplete: Bool {
        guard let head else { return false }
        return head.error != nil || head.status == nil || hashedOnRemote || length >= head.bodyLength
    }

    func receiveStderr(_ bytes: UnsafeRawBufferPointer) throws {}

    var length: Int64 { sink.length }
    var body: Data { sink.body }

    func receive(_ bytes: UnsafeRawBufferPointer) throws {
        var bodyPart = bytes
        if head == nil {
            guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
                headBuffer.append(contentsOf: bytes)
                guard headBuffer.count <= AgentProtocol.maximumHeadSize else {
                    throw TransportError(kind: .other, url: shownURL, detail: "the agent's reply head is larger than \(AgentProtocol.maximumHeadSize) bytes")
                }
                return
            }
            headBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<newline]))
            do {
                head = try AgentProtocol.decodeReplyHead(headBuffer)
            } catch let error as SSHError {
                throw TransportError(kind: .other, url: shownURL, detail: error.description)
            }
            headBuffer = Data()
            if let status = head?.status, let announced = head?.bodyLength {
                try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in
                    try sink.checkAnnounced(announced, status: status)
                }
            }
            bodyPart = UnsafeRawBufferPointer(rebasing: bytes[(newline + 1)...])
        }
        guard bodyPart.count > 0, let head else { return }
        guard let status = head.status, length + Int64(bodyPart.count) <= head.bodyLength else {
            throw TransportError(kind: .other, url: shownURL, detail: "the agent sent more body bytes than the \(head.bodyLength) its reply head announced")
        }
        try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in try sink.take(bodyPart, status: status) }
    }

    /// A 2xx response to a `.file` destination with an empty body still truncates (or creates) the file.
    func finishEmptyBody() throws {
        guard let status = head?.status else { return }
        try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in try sink.finishEmptyBody(status: status) }
    }

    func closeFile() throws { try RemoteExchange.bodyStep(url: shownURL, route: route) { () throws(ResponseBodySink.Failure) in try sink.closeFile() } }

    /// Lowercase hex SHA-256 of the body bytes received.
    func sha256Hex() -> String { sink.sha256Hex() }
}
