import Crypto
import Foundation
import Transport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Takes `3tofu agent`'s stdout for one exchange: the JSON head line, then the body, which goes
/// where the `BodyDestination` says, hashed on the way. Bytes beyond the announced body length
/// are a protocol error. Used on the connection's queue only.
final class AgentReplyReceiver {
    static let errorBodyLimit = 64 * 1024

    private let destination: BodyDestination
    private let shownURL: String
    private var headBuffer = Data()
    private(set) var head: AgentProtocol.ReplyHead?
    private var hasher = SHA256()
    private(set) var length: Int64 = 0
    private(set) var body = Data()
    private var file: Int32 = -1
    private var sink: Sink?

    private enum Sink {
        case memory(limit: Int)
        case errorMemory
        case file
        case discard
    }

    init(destination: BodyDestination, shownURL: String) {
        self.destination = destination
        self.shownURL = shownURL
    }

    deinit { closeFile() }

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
            } catch let error as AgentProtocol.Failure {
                throw TransportError(kind: .other, url: shownURL, detail: error.description)
            }
            headBuffer = Data()
            bodyPart = UnsafeRawBufferPointer(rebasing: bytes[(newline + 1)...])
        }
        guard bodyPart.count > 0, let head else { return }
        guard let status = head.status, length + Int64(bodyPart.count) <= head.bodyLength else {
            throw TransportError(kind: .other, url: shownURL, detail: "the agent sent more body bytes than the \(head.bodyLength) its reply head announced")
        }
        let sink = try self.sink ?? openSink(status: status)
        self.sink = sink
        hasher.update(bufferPointer: bodyPart)
        length += Int64(bodyPart.count)
        switch sink {
        case .memory(let limit):
            guard body.count + bodyPart.count <= limit else {
                throw TransportError(kind: .bodyTooLarge, url: shownURL, detail: "the response body is larger than the \(limit) bytes allowed")
            }
            body.append(contentsOf: bodyPart)
        case .errorMemory:
            let room = Self.errorBodyLimit - body.count
            if room > 0 { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bodyPart.prefix(room))) }
        case .file:
            try writeAll(bodyPart)
        case .discard:
            break
        }
    }

    private func openSink(status: Int) throws -> Sink {
        switch destination {
        case .memory(let limit):
            return .memory(limit: limit)
        case .discard:
            return .discard
        case .file(let path):
            guard (200...299).contains(status) else { return .errorMemory }
            let flags = O_WRONLY | O_CREAT | (status == 206 ? O_APPEND : O_TRUNC)
            file = open(path, flags, 0o644)
            guard file >= 0 else {
                throw TransportError(kind: .io, url: shownURL, detail: "cannot open \(path) for writing: \(String(cString: strerror(errno)))")
            }
            return .file
        }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(file, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw TransportError(kind: .io, url: shownURL, detail: "cannot write the download to disk: \(String(cString: strerror(errno)))")
            }
            remaining -= written
            base = base.advanced(by: written)
        }
    }

    /// A 2xx response to a `.file` destination with an empty body still truncates (or creates) the file.
    func finishEmptyBody() throws {
        guard sink == nil, let status = head?.status else { return }
        if case .file = destination, (200...299).contains(status), status != 206 {
            sink = try openSink(status: status)
        }
    }

    func closeFile() {
        if file >= 0 {
            close(file)
            file = -1
        }
    }

    /// Lowercase hex SHA-256 of the body bytes received.
    func sha256Hex() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
