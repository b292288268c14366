import Foundation

/// One HTTP exchange as a vantage performs it. Implementations do not follow redirects:
/// the caller sees every 3xx and decides (see `RedirectPolicy` in Registry).
public protocol HTTPTransport: Sendable {
    /// Performs `request` and delivers the body to `destination`.
    /// Throws `TransportError` for failures below HTTP (DNS, connect, TLS, timeouts, caps).
    func perform(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse

    /// A short description of the route for reports, e.g. "direct" or "socks5h://127.0.0.1:1080".
    var route: String { get }
}

public struct HTTPRequest: Sendable, Equatable {
    public enum Method: String, Sendable { case get = "GET", head = "HEAD" }
    public var method: Method
    public var url: String
    /// Header fields in order; names as given. Never log the values of `Authorization`.
    public var headers: [(name: String, value: String)]
    /// Ask for the body from this byte offset on (a closed `Range: bytes=N-` request).
    public var rangeStart: Int64?
    /// The most bytes the whole resource can have (a blob's descriptor size, a documented cap);
    /// nil: no limit beyond the destination's own. A 2xx body may carry this many bytes, a 206
    /// this many minus `rangeStart`. Every transport refuses a body whose length is announced
    /// above that before reading it, and stops one that runs past it as soon as it does, with
    /// `TransportError.bodyTooLarge`: no byte beyond the limit reaches the destination (see
    /// `BodyLimit`). Non-2xx bodies are not counted against it (they are capped apart).
    public var maximumBodyLength: Int64?

    public init(
        method: Method = .get, url: String, headers: [(name: String, value: String)] = [], rangeStart: Int64? = nil, maximumBodyLength: Int64? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.rangeStart = rangeStart
        self.maximumBodyLength = maximumBodyLength
    }

    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.rangeStart == rhs.rangeStart && lhs.maximumBodyLength == rhs.maximumBodyLength
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }
}

/// Where a response body goes. Every destination hashes what it receives with SHA-256.
public enum BodyDestination: Sendable {
    /// Keep the body in memory; more than `limit` bytes is `TransportError.bodyTooLarge`.
    case memory(limit: Int)
    /// Write the body to the file at `path` (created if missing): a 206 body is appended to what the
    /// file holds (resume), any other 2xx body replaces the file's content (truncate first).
    /// Non-2xx bodies are never written to the file; they go to memory (capped at 64 KiB) so errors can be read.
    /// With a `tap` (made only inside this package: the Coordinator's layer streaming), the same
    /// bytes are also handed to it as they are written.
    case file(path: String, tap: BodyTapHandle? = nil)
    /// Hash and count the body, keep nothing.
    case discard
}

/// Sees a file-bound 2xx response body as it is written to its file, to pass the bytes on while
/// they download. Called on the transfer's thread; `receive` may block to slow the transfer down,
/// and while it blocks the transport's timeouts and cancellation wait too: a tap must not block
/// for anything that may never come. Package-level: the one user is the layer streaming behind
/// Coordinator's `LayerStream` (its `LayerFeed`); outside the package a tap is not even nameable.
package protocol BodyTap: AnyObject, Sendable {
    /// A body starts going to the file: appended to what it holds (a 206) or replacing it.
    func begin(appending: Bool)
    /// The next bytes of the body, after they were handed to the file.
    func receive(_ bytes: UnsafeRawBufferPointer)
    /// The body ended, completely or not; everything received has been through `receive`.
    func end()
}

/// A `BodyTap` for `BodyDestination.file`: opaque outside the package, where none can be made,
/// so the streaming seam stays out of Transport's public API.
public struct BodyTapHandle: Sendable {
    package let tap: any BodyTap
    package init(_ tap: any BodyTap) { self.tap = tap }
}

/// Case-insensitive, order-keeping header list.
public struct HTTPHeaders: Sendable, Equatable {
    public private(set) var fields: [Field]
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { self.name = name; self.value = value }
    }
    public init(_ fields: [Field] = []) { self.fields = fields }
    public mutating func append(name: String, value: String) { fields.append(Field(name: name, value: value)) }
    /// The first value of `name`, compared case-insensitively.
    public subscript(name: String) -> String? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }?.value
    }
    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        let lower = name.lowercased()
        return fields.filter { $0.name.lowercased() == lower }.map(\.value)
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// The body when the destination was `.memory`, or a non-2xx body (capped) otherwise.
    public var body: Data
    /// SHA-256 (lowercase hex) and length of the bytes received in this exchange.
    public var bodySHA256: String
    public var bodyLength: Int64
    public var evidence: TransportEvidence

    public init(status: Int, headers: HTTPHeaders, body: Data, bodySHA256: String, bodyLength: Int64, evidence: TransportEvidence) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodySHA256 = bodySHA256
        self.bodyLength = bodyLength
        self.evidence = evidence
    }
}

/// What the transport saw of the connection, kept for agreement reports.
public struct TransportEvidence: Sendable, Equatable, Codable {
    public var remoteIP: String?
    public var effectiveURL: String?
    /// SHA-256 fingerprints (lowercase hex) of the DER certificates the server presented, leaf first.
    public var certificateSHA256: [String]
    public var httpVersion: String?
    /// Seconds from start to: name resolved, connected, TLS done, first byte, total.
    public var timings: Timings
    /// `RateLimit-*` / `X-RateLimit-*` headers as the server sent them.
    public var rateLimit: [String: String]
    /// For an SSH vantage: the remote host's key fingerprint ("SHA256:…"), checked against known_hosts.
    public var sshHostKey: String?
    /// After a TLS verification failure: the chain the route showed, recorded over a connection
    /// that sent nothing (`UntrustedCertificates`). Shown, not trusted; nil when none was recorded.
    public var untrustedCertificates: [ShownCertificate]?
    /// After a TLS verification failure on a route that could not record the chain it was shown
    /// (an SSH vantage's remote without `openssl`): why. Nil otherwise.
    public var untrustedCertificatesNotRecorded: String?

    public struct Timings: Sendable, Equatable, Codable {
        public var nameLookup: Double
        public var connect: Double
        public var tlsHandshake: Double
        public var firstByte: Double
        public var total: Double
        public init(nameLookup: Double = 0, connect: Double = 0, tlsHandshake: Double = 0, firstByte: Double = 0, total: Double = 0) {
            self.nameLookup = nameLookup
            self.connect = connect
            self.tlsHandshake = tlsHandshake
            self.firstByte = firstByte
            self.total = total
        }
    }

    public init(
        remoteIP: String? = nil, effectiveURL: String? = nil, certificateSHA256: [String] = [], httpVersion: String? = nil, timings: Timings = Timings(),
        rateLimit: [String: String] = [:], sshHostKey: String? = nil
    ) {
        self.sshHostKey = sshHostKey
        self.remoteIP = remoteIP
        self.effectiveURL = effectiveURL
        self.certificateSHA256 = certificateSHA256
        self.httpVersion = httpVersion
        self.timings = timings
        self.rateLimit = rateLimit
    }
}

/// Failures below HTTP. Each says what happened and to what URL.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case dns, connect, tls, timeout, proxy, bodyTooLarge, io, unsupportedScheme, other
        /// The URL cannot be fetched as written (libcurl cannot parse it); retrying cannot help.
        case badURL
        /// The transport's settings cannot work (a proxy that is not a URL, a CA file that is
        /// missing): the request's fault, found before anything is sent.
        case configuration
    }
    public var kind: Kind
    public var url: String
    public var detail: String
    /// What the transport saw before it failed (where it connected, the certificates it was
    /// shown, the timings that say how far it got), when it saw anything: kept for the report.
    public var evidence: TransportEvidence?
    public init(kind: Kind, url: String, detail: String, evidence: TransportEvidence? = nil) {
        self.kind = kind
        self.url = url
        self.detail = detail
        self.evidence = evidence
    }
    /// Settings that cannot work; `message` names the field and what to change.
    public init(configuration message: String) {
        self.init(kind: .configuration, url: "", detail: message)
    }

    public var message: String { description }
    public var description: String { url.isEmpty ? detail : "\(detail) (\(url))" }
}
