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
/// a server that ignores the range is refused at its first byte (`downloadBlobTail`). Then it
/// waits until the head download's file holds k bytes, copies them into its file's start, and
/// hashes the whole file against the agreed digest before the commit (`verifyAndCommit`): every
/// byte is checked on its way in as for a resumed partial, and a wrong byte from either route
/// means no commit. The first copy of the blob to land wins: the head download is then
/// cancelled (its feed to the writer abandoned: the writer reads the committed blob from the
/// store, hashed again). A split that fails (the head stopped before k, no range, wrong bytes,
/// an error) removes its file and drops no route: the head download goes on, or the blob goes
/// back to the planner as after any failed download.
extension BlobFetcher {
    func downloadTail(
        _ descriptor: Descriptor, item: Int, route: Int, from start: Int64, head: RouteDownloadProgress?, progress: RouteDownloadProgress
    ) async -> RouteStep {
        defer { progress.ended() }
        var tail: String?
        defer { if let tail { unlink(tail) } }
        let name = sources[route].name
        do {
            guard let head else { throw CoordinatorError(.notMet, "no download of the blob's start to split from") }
            let path = try store.privatePartialPath(for: descriptor.digest)
            tail = path
            try Self.createPlaceholder(path, length: start)
            progress.transferring(path: path, from: start)
            _ = try await sources[route].client.downloadBlobTail(
                registry: reference.registry, repository: reference.repository, descriptor: descriptor, from: start, to: path)
            let headPath = try await Self.waitForHead(head, reaching: start)
            let store = self.store
            try await BlockingIO.run {
                try Self.copyPrefix(of: headPath, into: path, length: start)
                _ = try store.verifyAndCommit(file: path, as: descriptor.digest, expectedSize: descriptor.size)
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

    /// The head download's file, once it holds `length` bytes; throws once the head download is
    /// over short of them (it failed, was cancelled or handed over), so the wait always ends.
    static func waitForHead(_ head: RouteDownloadProgress, reaching length: Int64) async throws -> String {
        while true {
            try Task.checkCancellation()
            // Read the end flag first: a file long enough after that still counts.
            let over = head.hasEnded
            if let (path, _) = head.file() {
                var info = stat()
                if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) >= length { return path }
            }
            if over { throw CoordinatorError(.notMet, "the download of the blob's start stopped before byte \(length)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Copies the first `length` bytes of `source` over the start of `target`.
    static func copyPrefix(of source: String, into target: String, length: Int64) throws {
        let input = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else { throw CoordinatorError(.notMet, "could not open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard output >= 0 else { throw CoordinatorError(.notMet, "could not open \(target): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < length {
            let count = pread(input, buffer, Int(min(length - offset, 1 << 20)), off_t(offset))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw CoordinatorError(.notMet, "could not read \(source) before byte \(length)") }
            var written = 0
            while written < count {
                let put = pwrite(output, buffer + written, count - written, off_t(offset) + off_t(written))
                if put < 0, errno == EINTR { continue }
                guard put > 0 else { throw CoordinatorError(.notMet, "could not write \(target): \(String(cString: strerror(errno)))") }
                written += put
            }
            offset += Int64(count)
        }
    }
}
