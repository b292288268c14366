import Foundation
import Transport

/// The wire format between 3tofu and `3tofu agent` on an SSH vantage with `agent = "3tofu"`
/// (docs/AGENT-PROTOCOL.md). One exchange per command: the request is one JSON line on the
/// agent's stdin, then EOF; the reply is one JSON head line on stdout, then exactly
/// `bodyLength` raw body bytes (mode `stream`) or nothing (mode `hash`). Pure encoding, no I/O.
public enum AgentProtocol {
    /// The protocol name and version, the first field a reader checks.
    public static let version = "3tofu-agent/1"
    /// The command run on the remote host. A constant: nothing from a request goes on a command line.
    public static let command = "3tofu agent"
    /// The largest request line accepted (headers, URL and an optional CA bundle).
    public static let maximumRequestSize = 8 * 1024 * 1024
    /// The largest reply head line accepted.
    public static let maximumHeadSize = 4 * 1024 * 1024

    public enum Mode: String, Codable, Sendable {
        /// The body follows the head line.
        case stream
        /// The body is hashed on the remote; only its SHA-256 and size come back (in the head).
        case hash
    }

    public struct Header: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { self.name = name; self.value = value }
    }

    /// What 3tofu asks the agent to fetch.
    public struct Request: Codable, Sendable, Equatable {
        public var `protocol`: String
        public var method: String
        public var url: String
        /// Request header fields in order. Tokens and passwords travel only here, on stdin.
        public var headers: [Header]
        public var rangeStart: Int64?
        public var mode: Mode
        /// Mode `stream`: a body larger than this is a `bodyTooLarge` error (nil: no limit).
        public var memoryLimit: Int?
        /// `HTTPRequest.maximumBodyLength`: the agent stops a 2xx body past it (either mode) with
        /// a `bodyTooLarge` error head (nil: no limit; older agents ignore the field, and the
        /// caller then refuses the announced length).
        public var maximumBodyLength: Int64?
        /// PEM certificates trusted in addition to the remote's system CA bundle.
        public var caPEM: String?
        /// Seconds allowed to connect (nil: the agent's default).
        public var connectTimeout: Double?

        public init(
            method: String, url: String, headers: [Header], rangeStart: Int64? = nil, mode: Mode, memoryLimit: Int? = nil,
            maximumBodyLength: Int64? = nil, caPEM: String? = nil, connectTimeout: Double? = nil
        ) {
            self.protocol = AgentProtocol.version
            self.method = method
            self.url = url
            self.headers = headers
            self.rangeStart = rangeStart
            self.mode = mode
            self.memoryLimit = memoryLimit
            self.maximumBodyLength = maximumBodyLength
            self.caPEM = caPEM
            self.connectTimeout = connectTimeout
        }

        /// The request for `request` as `SSHAgentTransport` sends it.
        public init(_ request: HTTPRequest, mode: Mode, memoryLimit: Int?, caPEM: String?, connectTimeout: Double?) {
            self.init(
                method: request.method.rawValue, url: request.url, headers: request.headers.map { Header(name: $0.name, value: $0.value) },
                rangeStart: request.rangeStart, mode: mode, memoryLimit: memoryLimit, maximumBodyLength: request.maximumBodyLength, caPEM: caPEM,
                connectTimeout: connectTimeout)
        }

        /// The `HTTPRequest` this asks for; throws an `SSHError` of kind `.remote` when it is not one.
        public func httpRequest() throws -> HTTPRequest {
            guard self.protocol == AgentProtocol.version else {
                throw SSHError(.remote, "the request speaks \"\(self.protocol)\", this agent speaks \"\(AgentProtocol.version)\"; install the same 3tofu version on both hosts")
            }
            guard let method = HTTPRequest.Method(rawValue: method) else {
                throw SSHError(.remote, "method \"\(method)\" is not GET or HEAD")
            }
            if let memoryLimit, memoryLimit < 0 { throw SSHError(.remote, "memoryLimit \(memoryLimit) is negative") }
            if let maximumBodyLength, maximumBodyLength < 0 { throw SSHError(.remote, "maximumBodyLength \(maximumBodyLength) is negative") }
            return HTTPRequest(
                method: method, url: url, headers: headers.map { ($0.name, $0.value) }, rangeStart: rangeStart, maximumBodyLength: maximumBodyLength)
        }
    }

    /// The agent's reply head: a response (status, headers, body size and hash, evidence), or an error.
    public struct ReplyHead: Codable, Sendable, Equatable {
        public var `protocol`: String
        public var status: Int?
        public var headers: [Header]
        /// Mode `stream`: how many body bytes follow the head line. Mode `hash`: the body's size.
        public var bodyLength: Int64
        /// Lowercase hex SHA-256 of the body bytes (those that follow, or those hashed in mode `hash`).
        public var bodySHA256: String
        public var evidence: TransportEvidence?
        public var error: ErrorInfo?

        public struct ErrorInfo: Codable, Sendable, Equatable {
            /// A `TransportError.Kind` raw value, or `badRequest` for a request the agent cannot read.
            public var kind: String
            public var detail: String
            public init(kind: String, detail: String) { self.kind = kind; self.detail = detail }
        }

        public init(status: Int, headers: HTTPHeaders, bodyLength: Int64, bodySHA256: String, evidence: TransportEvidence) {
            self.protocol = AgentProtocol.version
            self.status = status
            self.headers = headers.fields.map { Header(name: $0.name, value: $0.value) }
            self.bodyLength = bodyLength
            self.bodySHA256 = bodySHA256
            self.evidence = evidence
            self.error = nil
        }

        /// An error head; `evidence`: what the agent saw of the failed exchange (after a failed TLS
        /// verification, the chain it was shown over a connection that sent nothing).
        public init(error kind: String, detail: String, evidence: TransportEvidence? = nil) {
            self.protocol = AgentProtocol.version
            self.status = nil
            self.headers = []
            self.bodyLength = 0
            self.bodySHA256 = ""
            self.evidence = evidence
            self.error = ErrorInfo(kind: kind, detail: detail)
        }

        public var httpHeaders: HTTPHeaders { HTTPHeaders(headers.map { HTTPHeaders.Field(name: $0.name, value: $0.value) }) }
    }

    /// One JSON object and a line feed. JSON escapes every control character, so the line has no other LF.
    public static func line<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Decodes a request from the agent's whole stdin: one JSON line (a final LF is optional).
    public static func decodeRequest(_ input: Data) throws -> Request {
        guard input.count <= maximumRequestSize else {
            throw SSHError(.remote, "the request is larger than \(maximumRequestSize) bytes")
        }
        var line = input
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        guard !line.isEmpty else { throw SSHError(.remote, "the request is empty; send one JSON line on stdin (docs/AGENT-PROTOCOL.md)") }
        guard !line.contains(UInt8(ascii: "\n")) else { throw SSHError(.remote, "the request has more than one line") }
        do {
            return try JSONDecoder().decode(Request.self, from: line)
        } catch {
            throw SSHError(.remote, "the request is not a \(version) JSON object: \(error)")
        }
    }

    /// Decodes a reply head line (without its LF).
    public static func decodeReplyHead(_ line: Data) throws -> ReplyHead {
        let head: ReplyHead
        do {
            head = try JSONDecoder().decode(ReplyHead.self, from: line)
        } catch {
            throw SSHError(.remote, "the agent's reply head is not \(version) JSON: \(error)")
        }
        guard head.protocol == version else {
            throw SSHError(.remote, "the agent speaks \"\(head.protocol)\", not \"\(version)\"; install the same 3tofu version on both hosts")
        }
        guard head.error != nil || head.status != nil else { throw SSHError(.remote, "the agent's reply head has neither a status nor an error") }
        guard head.bodyLength >= 0 else { throw SSHError(.remote, "the agent's reply head gives a negative body length") }
        return head
    }
}
