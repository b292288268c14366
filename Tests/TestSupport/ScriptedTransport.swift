import Crypto
import Foundation
import Transport

/// A transport that answers from a script, for faults a real registry cannot produce on demand
/// (503 then 200, 429 with Retry-After, a Range that is ignored). Records every request. For any
/// test target that needs an `HTTPTransport` whose answers it decides.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    public struct Reply {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    private let lock = NSLock()
    private var handler: (HTTPRequest) -> Reply
    private var recorded: [HTTPRequest] = []
    public let route = "scripted"

    /// Every request performed so far, in order.
    public var requests: [HTTPRequest] { lock.withLock { recorded } }

    public init(_ handler: @escaping (HTTPRequest) -> Reply) {
        self.handler = handler
    }

    public func perform(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse {
        let reply = lock.withLock {
            recorded.append(request)
            return handler(request)
        }
        var headers = HTTPHeaders()
        for (name, value) in reply.headers.sorted(by: { $0.key < $1.key }) { headers.append(name: name, value: value) }
        var kept = reply.body
        if case .memory(let limit) = destination, reply.body.count > limit {
            throw TransportError(kind: .bodyTooLarge, url: request.url, detail: "over \(limit)")
        }
        // As every transport does: no byte past the request's limit is taken (`BodyLimit`).
        let limit = BodyLimit(request: request, status: reply.status)
        let taken = limit.map { reply.body.prefix(Int(min($0.bytes, Int64(reply.body.count)))) } ?? reply.body
        if case .file(let path, _) = destination, (200..<300).contains(reply.status) {
            if reply.status != 206 { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: taken)
            try handle.close()
            kept = Data()
        }
        if let limit, limit.refuses(received: 0, adding: reply.body.count) {
            throw limit.error(url: request.url)
        }
        let hex = Self.sha256Hex(reply.body)
        return HTTPResponse(status: reply.status, headers: headers, body: kept, bodySHA256: hex, bodyLength: Int64(reply.body.count), evidence: TransportEvidence(effectiveURL: request.url))
    }

    /// A server that honours `Range: bytes=N-` on `blob` (206 from N on, else 200 with all of it).
    public static func servingRanges(of blob: Data) -> ScriptedTransport {
        ScriptedTransport { request in
            guard let start = request.rangeStart else { return .init(status: 200, body: blob) }
            return .init(status: 206, headers: ["Content-Range": "bytes \(start)-\(blob.count - 1)/\(blob.count)"], body: blob.suffix(from: Int(start)))
        }
    }

    public func header(_ name: String, of request: HTTPRequest) -> String? {
        request.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Lowercase hex SHA-256 of `data`, as transports report bodies.
    public static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
