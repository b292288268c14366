import Foundation
import OCI
import Transport

#if canImport(Glibc)
import Glibc
#endif

extension RegistryClient {
    /// Downloads bytes [`start`, size) of a blob, appended to the file at `path`, which must hold
    /// exactly `start` bytes already (a placeholder for the part another route brings: a sparse
    /// file). Returns the bytes received. Only a 206 whose Content-Range starts at `start` is
    /// taken: a server that ignores the range and answers with the whole blob (200) is stopped at
    /// its first byte and refused, and so is any other range, so the caller never takes a whole
    /// body (or another part) for the tail. One request, no retry: a tail that fails is simply
    /// not used (the blob is then brought by the route downloading it from its start). The bytes
    /// are not checked here: the caller hashes the whole file against the digest before any use.
    /// Package-level: the one user is Coordinator's split of a large blob over two routes.
    package func downloadBlobTail(registry: String, repository: String, descriptor: Descriptor, from start: Int64, to path: String) async throws -> Int64 {
        guard start > 0, start < descriptor.size, Self.fileLength(path) == start else {
            throw RegistryError(.io, "blob \(descriptor.digest): the file for bytes \(start)- of \(descriptor.size) is not ready at \(path)")
        }
        let url = baseURL(registry) + "/v2/\(repository)/blobs/\(descriptor.digest)"
        let request = HTTPRequest(url: url, rangeStart: start, maximumBodyLength: descriptor.size)
        let refusal = WholeBodyRefusal()
        let exchange = Task {
            try await self.exchange(
                request, registry: registry, scope: Self.pullScope(repository), into: .file(path: path, tap: BodyTapHandle(refusal)), retrying: false)
        }
        refusal.stop { exchange.cancel() }
        let result = await withTaskCancellationHandler { await exchange.result } onCancel: { exchange.cancel() }
        if refusal.sawWholeBody {
            throw RegistryError(
                .badResponse, "\(registry) answered a range request for blob \(descriptor.digest) with the whole blob (it ignores Range); the blob is not split")
        }
        let response: HTTPResponse
        do {
            (response, _) = try result.get()
        } catch let error as TransportError {
            throw Self.networkError(error)
        }
        guard response.status == 206 else {
            throw statusFailure(response, what: "bytes \(start)- of blob \(descriptor.digest)", url: url, advice: loginAdvice(for: registry))
        }
        let answered = Self.contentRangeStart(response.headers["Content-Range"])
        guard answered == start else {
            throw RegistryError(
                .badResponse, "\(registry) answered a range request from byte \(start) of blob \(descriptor.digest) with another range (\(answered.map(String.init) ?? "none")); the blob is not split")
        }
        let length = Self.fileLength(path)
        guard length == descriptor.size else {
            throw RegistryError(.badResponse, "blob \(descriptor.digest): bytes \(start)- ended at \(length) of \(descriptor.size)")
        }
        return length - start
    }
}

/// A `BodyTap` that stops the transfer when the body would replace the file (a 200 to a range
/// request) instead of continuing it (a 206).
private final class WholeBodyRefusal: BodyTap, @unchecked Sendable {
    private let lock = NSLock()
    private var whole = false
    private var stopper: (@Sendable () -> Void)?

    var sawWholeBody: Bool { lock.withLock { whole } }

    /// How to stop the transfer; called at once if the whole body already began.
    func stop(_ action: @escaping @Sendable () -> Void) {
        let now = lock.withLock { () -> Bool in
            stopper = action
            return whole
        }
        if now { action() }
    }

    func begin(appending: Bool) {
        guard !appending else { return }
        let action = lock.withLock { () -> (@Sendable () -> Void)? in
            whole = true
            return stopper
        }
        action?()
    }

    func receive(_ bytes: UnsafeRawBufferPointer) {}
    func end() {}
}
