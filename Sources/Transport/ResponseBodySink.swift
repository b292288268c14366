import Crypto
import DirectIO
import Foundation

/// Where the body of one response goes once its status is known, for every transport (libcurl
/// here, the SSH vantages' remote curl and `3tofu agent` in Remote): memory up to a limit, a file
/// (`DownloadFile`: appended to for a 206, replaced for another 2xx), or nowhere, hashed with
/// SHA-256 on the way. A non-2xx body bound for a file or `.discard` is kept in memory instead
/// (up to `errorBodyCap`) so the error can be read. A 2xx body is held to the request's
/// `BodyLimit`: a length announced above it is refused before any byte is taken, and no byte past
/// it is taken. Used by one thread at a time (a lane's or a connection's queue).
public final class ResponseBodySink {
    /// Why the sink refused bytes; `error(url:via:)` is the one message for it.
    public enum Failure: Error, Equatable {
        /// A `.memory` body larger than its limit.
        case bodyTooLarge(limit: Int)
        /// A 2xx body announced (`announced`) or ran past the request's `BodyLimit`.
        case pastBodyLimit(BodyLimit, announced: Int64?)
        case fileOpen(path: String, errno: Int32)
        case fileWrite(path: String, errno: Int32)

        public var kind: TransportError.Kind {
            switch self {
            case .bodyTooLarge, .pastBodyLimit: .bodyTooLarge
            case .fileOpen, .fileWrite: .io
            }
        }

        /// What to do about it.
        public var advice: String {
            switch self {
            case .bodyTooLarge: "the server sent more than expected; the caller's cap protects memory"
            case .pastBodyLimit: "the server sent more than the size asked for"
            case .fileOpen, .fileWrite: "check that the output directory exists, is writable and has free space"
            }
        }

        /// The error for `url` (already without credentials), reached through `route` (a proxy or
        /// an SSH host; nil when direct).
        public func error(url: String, via route: String?) -> TransportError {
            let detail: String
            switch self {
            case .bodyTooLarge(let limit):
                detail = "the response body is larger than the limit of \(limit) bytes; \(advice)"
            case .pastBodyLimit(let limit, let announced):
                return limit.error(url: url, announced: announced, via: route)
            case .fileOpen(let path, let number):
                detail = "could not open \(path) for writing: \(String(cString: strerror(number))); \(advice)"
            case .fileWrite(let path, let number):
                detail = "could not write to \(path): \(String(cString: strerror(number))); \(advice)"
            }
            return TransportError(kind: kind, url: url, detail: detail)
        }
    }

    /// Non-2xx bodies kept for `.file` and `.discard` destinations, so errors can be read.
    public static let errorBodyCap = 64 * 1024

    private enum Sink {
        case memory(limit: Int)
        case file(DownloadFile)
        case cappedMemory
        case nothing
    }

    private let request: HTTPRequest
    private let destination: BodyDestination
    private var sink: Sink?
    /// The limit on this response's body (nil: none), once its status is known.
    private var limit: BodyLimit?
    private var hasher = SHA256()
    /// Body bytes taken (all of them, also those not kept).
    public private(set) var length: Int64 = 0
    /// The body for `.memory`, or a non-2xx body (capped) for the other destinations.
    public private(set) var body = Data()

    public init(request: HTTPRequest, destination: BodyDestination) {
        self.request = request
        self.destination = destination
    }

    deinit { try? closeFile() }

    /// Refuses the body of a response with `status` whose announced length (a Content-Length, the
    /// agent's head) passes the request's limit, before any of it is taken.
    public func checkAnnounced(_ announced: Int64?, status: Int) throws(Failure) {
        guard let announced, let limit = BodyLimit(request: request, status: status), limit.refuses(announced: announced) else { return }
        throw .pastBodyLimit(limit, announced: announced)
    }

    /// Takes body bytes of a response with `status` (0 when unknown: treated as an error status).
    /// The first call chooses where the body goes (and opens the file).
    public func take(_ bytes: UnsafeRawBufferPointer, status: Int) throws(Failure) {
        let sink = try open(status: status)
        if let limit, limit.refuses(received: length, adding: bytes.count) {
            throw .pastBodyLimit(limit, announced: nil)
        }
        switch sink {
        case .memory(let limit):
            guard body.count + bytes.count <= limit else { throw .bodyTooLarge(limit: limit) }
            body.append(contentsOf: bytes)
        case .file(let file):
            do {
                try file.write(bytes)
            } catch {
                throw .fileWrite(path: file.path, errno: error.code)
            }
        case .cappedMemory:
            let room = max(0, Self.errorBodyCap - body.count)
            if room > 0 { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes.prefix(room))) }
        case .nothing:
            break
        }
        hasher.update(bufferPointer: bytes)
        length += Int64(bytes.count)
    }

    /// After the exchange: a 2xx response to a `.file` destination that carried no body bytes
    /// still creates the file (or truncates it, or for a 206 leaves it as it is).
    public func finishEmptyBody(status: Int) throws(Failure) {
        guard sink == nil else { return }
        _ = try open(status: status)
    }

    /// Writes out what is still buffered (also after a failed exchange, so a resume starts from
    /// every byte received) and closes the file; later calls do nothing.
    public func closeFile() throws(Failure) {
        guard case .file(let file)? = sink else { return }
        do {
            try file.finish()
        } catch {
            throw .fileWrite(path: file.path, errno: error.code)
        }
    }

    /// Lowercase hex SHA-256 of the body bytes taken.
    public func sha256Hex() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private func open(status: Int) throws(Failure) -> Sink {
        if let sink { return sink }
        let isSuccess = (200..<300).contains(status)
        let chosen: Sink
        switch destination {
        case .memory(let limit):
            chosen = .memory(limit: limit)
        case .discard:
            chosen = isSuccess ? .nothing : .cappedMemory
        case .file(let path, let tap):
            guard isSuccess else {
                chosen = .cappedMemory
                break
            }
            do {
                chosen = .file(try DownloadFile(path: path, status: status, tap: tap?.tap))
            } catch {
                throw .fileOpen(path: path, errno: error.code)
            }
        }
        sink = chosen
        limit = BodyLimit(request: request, status: status)
        return chosen
    }
}
