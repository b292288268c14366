import Artifacts
import Foundation
import OCI
import Registry

#if canImport(Glibc)
import Glibc
#endif

/// A split (`RoutePlanner.Action.split`): a second route brings the tail of a large blob another
/// route is downloading from its start, so one large layer is carried by two routes together.
///
/// The tail route downloads bytes [k, size) with a range request into a file of its own (no blob
/// lock, no feed to the writer: like a hedge's copy), a sparse file of k bytes it appends to;
/// a server that ignores the range is refused at its first byte (`downloadBlobTail`).
/// Meanwhile the head download's bytes before k are copied into the file's start as the head
/// brings them, each hashed on its way (`BlobJoin`); once both parts are in, the rest is hashed
/// as it is read back, and the file is committed only if the whole of it hashes to the agreed
/// digest: every byte is checked, and a wrong byte from either route means no commit. Following
/// the head as it goes leaves almost nothing to do when both parts are in (copying and hashing
/// 200 MB at the end took as long as the head needed for its last bytes). The first copy of the
/// blob to land wins: the head download is then cancelled (its feed to the writer abandoned: the
/// writer reads the committed blob from the store, hashed again). A split that fails (the head
/// stopped before k, no range, wrong bytes, an error) removes its file and drops no route: the
/// head download goes on, or the blob goes back to the planner as after any failed download.
extension BlobFetcher {
    func downloadTail(
        _ descriptor: Descriptor, item: Int, route: Int, over source: Source, from start: Int64, head: RouteDownloadProgress?,
        progress: RouteDownloadProgress
    ) async -> RouteStep {
        defer { progress.ended() }
        var tail: String?
        defer { if let tail { unlink(tail) } }
        let name = source.name
        do {
            guard let head else { throw CoordinatorError(.notMet, "no download of the blob's start to split from") }
            let path = try store.privatePartialPath(for: descriptor.digest)
            tail = path
            try Self.createPlaceholder(path, length: start)
            progress.transferring(path: path, from: start)
            let client = source.client
            let reference = self.reference
            let outcome = TailOutcome()
            let download = Task {
                do {
                    _ = try await client.downloadBlobTail(
                        registry: reference.registry, repository: reference.repository, descriptor: descriptor, from: start, to: path)
                    outcome.end(nil)
                } catch {
                    outcome.end(error)
                }
            }
            defer { download.cancel() }
            let join = BlobJoin(file: path, prefix: start, algorithm: descriptor.digest.algorithm)
            try await withTaskCancellationHandler {
                try await Self.follow(head, into: join, until: outcome)
                await download.value
            } onCancel: {
                download.cancel()
            }
            if let error = outcome.error { throw error }
            let store = self.store
            try await BlockingIO.run {
                let hex = try join.finish(size: descriptor.size)
                _ = try store.commit(file: path, as: descriptor.digest, verifiedSHA256: hex, size: descriptor.size)
            }
            events?(.blobFinished(digest: descriptor.digest.string, size: descriptor.size))
            return .landed(item: item, route: route, received: descriptor.size - start, resumed: false, elsewhere: false, splitFrom: start)
        } catch {
            // Never drops the route (`cancelled`): a route that cannot serve ranges still serves blobs.
            return .failed(item: item, route: route, reason: "\(name): the tail of blob \(descriptor.digest) from byte \(start): \(error)", cancelled: true)
        }
    }

    /// A new file of `length` bytes (a hole: the head's bytes come there later), this user's only.
    static func createPlaceholder(_ path: String, length: Int64) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CoordinatorError(.notMet, "could not create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(length)) == 0 else {
            throw CoordinatorError(.notMet, "could not size \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Copies the head download's bytes into `join` as its file grows, until the prefix is in;
    /// throws once the head download is over short of it (failed, cancelled, handed over) or the
    /// tail's download failed, so the wait always ends.
    static func follow(_ head: RouteDownloadProgress, into join: BlobJoin, until tail: TailOutcome) async throws {
        while !join.prefixIsIn {
            try Task.checkCancellation()
            if let error = tail.error { throw error }
            // Read the end flag first: bytes in the file after that still count.
            let over = head.hasEnded
            if let (path, _) = head.file() {
                var info = stat()
                if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) > join.copied {
                    let available = Int64(info.st_size)
                    try await BlockingIO.run { try join.takePrefix(from: path, available: available) }
                    continue
                }
            }
            if over { throw CoordinatorError(.notMet, "the download of the blob's start stopped before byte \(join.prefix)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// How the tail's download ended: nil until it has; then the error, if any.
final class TailOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var ended = false
    private var failure: (any Error)?

    func end(_ error: (any Error)?) {
        lock.withLock {
            ended = true
            failure = error
        }
    }

    /// The tail's download failed.
    var error: (any Error)? { lock.withLock { failure } }
}
