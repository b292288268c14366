import Crypto
import DirectIO
import Foundation
import Transport

/// Where the body of one remote exchange goes once its head is known, for both SSH transports
/// (remote curl and `3tofu agent`): memory up to a limit, a file (appended to for a 206), or
/// nowhere, hashed on the way; an error status's body is kept in memory (up to 64 KiB) for the
/// message instead of reaching the file. A 2xx body is held to the request's `BodyLimit`: a
/// length announced above it is refused before any byte is taken, and no byte past it is taken.
/// Used on the connection's queue only.
final class RemoteBodySink {
    static let errorBodyLimit = 64 * 1024

    private let destination: BodyDestination
    private let request: HTTPRequest
    private let shownURL: String
    private let route: String
    private var hasher = SHA256()
    private(set) var length: Int64 = 0
    private(set) var body = Data()
    private var sink: Sink?

    private enum Sink {
        case memory(limit: Int)
        case errorMemory
        case file(DownloadFile)
        case discard
    }

    init(request: HTTPRequest, destination: BodyDestination, shownURL: String, route: String) {
        self.request = request
        self.destination = destination
        self.shownURL = shownURL
        self.route = route
    }

    deinit { try? closeFile() }

    /// Refuses a body of a response with `status` whose announced length (a Content-Length, the
    /// agent's head) passes the request's limit, before any of it is taken.
    func checkAnnounced(_ length: Int64?, status: Int) throws {
        guard let length, let limit = BodyLimit(request: request, status: status), limit.refuses(announced: length) else { return }
        throw limit.error(url: shownURL, announced: length, via: route)
    }

    /// Takes body bytes of a response with `status`.
    func take(_ bodyPart: UnsafeRawBufferPointer, status: Int) throws {
        guard bodyPart.count > 0 else { return }
        if let limit = BodyLimit(request: request, status: status), limit.refuses(received: length, adding: bodyPart.count) {
            throw limit.error(url: shownURL, via: route)
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
        case .file(let file):
            do {
                try file.write(bodyPart)
            } catch {
                throw writeError(error, file.path)
            }
        case .discard:
            break
        }
    }

    /// A 2xx response to a `.file` destination with an empty body still truncates (or creates) the file.
    func finishEmptyBody(status: Int) throws {
        guard sink == nil else { return }
        if case .file = destination, (200...299).contains(status), status != 206 {
            sink = try openSink(status: status)
        }
    }

    /// Writes out what is still buffered (also after a failed exchange, so a resume starts from
    /// every byte received) and closes the file; later calls do nothing.
    func closeFile() throws {
        guard case .file(let file)? = sink else { return }
        do {
            try file.finish()
        } catch {
            throw writeError(error, file.path)
        }
    }

    private func writeError(_ error: DirectIOError, _ path: String) -> TransportError {
        TransportError(kind: .io, url: shownURL, detail: "cannot write the download to \(path): \(error); check free space")
    }

    /// Lowercase hex SHA-256 of the body bytes received.
    func sha256Hex() -> String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    private func openSink(status: Int) throws -> Sink {
        switch destination {
        case .memory(let limit):
            return .memory(limit: limit)
        case .discard:
            return .discard
        case .file(let path, let tap):
            guard (200...299).contains(status) else { return .errorMemory }
            do {
                return .file(try DownloadFile(path: path, status: status, tap: tap))
            } catch {
                throw TransportError(kind: .io, url: shownURL, detail: "cannot open \(path) for writing: \(error); check that the directory exists and is writable")
            }
        }
    }
}
