import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local cache of verified blobs, shared by every run, also by runs at the same time.
///
/// Layout under `root`: `blobs/<algorithm>/<hex>` holds finished blobs, each of which was checked
/// against its digest before it was linked there (and made read-only); `ingest/<hex>.partial`
/// holds downloads in progress, which a later run may resume, and `ingest/<hex>.lock` is the lock
/// a process holds (`lockBlob`) while it downloads or commits that blob, so concurrent runs share
/// the work instead of writing one file at once. Nothing lands in `blobs/` unless its digest
/// checked out, and a blob there is never replaced by another file (`link(2)`, not `rename(2)`).
///
/// Nothing on disk is trusted because of its name: links are never followed (`O_NOFOLLOW`,
/// `lstat`), a partial file that is not a plain file of its own is removed before it is written,
/// and `verifiedContains` hashes a cached blob again before a run relies on it. Every method does
/// plain blocking file I/O; call the long ones through `BlockingIO.run` from async code.
public final class ContentStore: Sendable {
    public let root: String
    /// The most `read` loads into memory: manifests and configs are far smaller.
    public static let smallBlobLimit = 4 << 20

    public init(root: String) {
        self.root = root
    }

    /// `$THREETOFU_CACHE` if set, else `$XDG_CACHE_HOME/3tofu`, else `~/.cache/3tofu`.
    public static func defaultRoot(environment: [String: String]) -> String {
        if let explicit = environment["THREETOFU_CACHE"], !explicit.isEmpty {
            return explicit
        }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return "\(xdg)/3tofu"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return "\(home)/.cache/3tofu"
    }

    /// Makes sure the cache at `root` can be trusted before a run uses it: creates it (mode 0700)
    /// when missing, and refuses it when another user could change what it holds: the directory
    /// or one of its own subdirectories is writable by group or others or owned by someone other
    /// than this user (or root), or a directory above it is writable by others without the sticky
    /// bit (they could swap the cache for their own). `allowSharedWriters` (the user's explicit
    /// `THREETOFU_CACHE_SHARED=1`) skips the ownership and mode checks for a cache that several
    /// users share on purpose; links inside the cache are still never followed.
    public static func checkRoot(_ root: String, allowSharedWriters: Bool) throws {
        if !FileSystem.exists(root) {
            do {
                try FileManager.default.createDirectory(
                    atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ArtifactsError(.io, "could not create the cache directory \(root): \(error); set THREETOFU_CACHE to a directory you can write")
            }
        }
        guard FileSystem.isDirectory(root) else {
            throw ArtifactsError(.unsafeCache, "the cache \(root) is not a directory; set THREETOFU_CACHE to a directory of your own")
        }
        let me = geteuid()
        let advice = "make it private with `chmod -R go-w '\(root)'`, set THREETOFU_CACHE to a private directory, or set THREETOFU_CACHE_SHARED=1 if every user who can write it is trusted"
        for directory in [root, "\(root)/blobs", "\(root)/blobs/sha256", "\(root)/blobs/sha512", "\(root)/ingest", "\(root)/staging"] {
            var info = stat()
            guard lstat(directory, &info) == 0 || directory == root else { continue }
            if directory == root { _ = stat(directory, &info) }
            // Also for a shared cache: the store opens files by path, and a linked subdirectory
            // would take every one of them elsewhere.
            if directory != root, (info.st_mode & S_IFMT) != S_IFDIR {
                throw ArtifactsError(.unsafeCache, "\(directory) in the cache is not a directory (a link or a file); remove it, 3tofu makes it again")
            }
            if allowSharedWriters { continue }
            if info.st_uid != me, info.st_uid != 0 {
                throw ArtifactsError(.unsafeCache, "the cache directory \(directory) belongs to user \(info.st_uid), not to you (\(me)): that user could change what 3tofu verified; \(advice)")
            }
            if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                throw ArtifactsError(.unsafeCache, "the cache directory \(directory) is writable by other users (mode \(String(info.st_mode & 0o7777, radix: 8))): they could change what 3tofu verified; \(advice)")
            }
        }
        guard !allowSharedWriters else { return }
        var above = FileSystem.directoryName(URL(fileURLWithPath: root).resolvingSymlinksInPath().path)
        while true {
            var info = stat()
            if stat(above, &info) == 0, info.st_mode & S_IWOTH != 0, info.st_mode & S_ISVTX == 0 {
                throw ArtifactsError(.unsafeCache, "\(above), above the cache \(root), is writable by every user and not sticky: anyone could replace the cache; \(advice)")
            }
            if above == "/" || above == "." { break }
            above = FileSystem.directoryName(above)
        }
    }

    /// Where the verified blob for `digest` lives (whether or not it is there yet).
    public func path(of digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    /// Whether the verified blob is present, with `size` bytes when a size is given.
    public func contains(_ digest: Digest, size: Int64?) -> Bool {
        guard let actual = FileSystem.regularFileSize(path(of: digest)) else { return false }
        return size.map { $0 == actual } ?? true
    }

    /// Where a download of `digest` accumulates. Creates the `ingest` directory, so the caller
    /// can open the file with `O_CREAT` straight away.
    public func partialPath(for digest: Digest) -> String {
        let directory = "\(root)/ingest"
        if !FileSystem.isDirectory(directory) {
            try? makeStoreDirectory(directory)
        }
        return "\(directory)/\(digest.encoded).partial"
    }

    /// The partial download of `digest`, ready to be written by the holder of its `lockBlob`:
    /// anything there that is not a regular file with one link (a planted symbolic link, a hard
    /// link to another file, a directory, or another user's file this one cannot write) is removed
    /// first, so the download never writes through it.
    public func preparePartial(for digest: Digest) throws -> String {
        let path = partialPath(for: digest)
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG || info.st_nlink != 1 || access(path, W_OK) != 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR {
                FileSystem.removeTree(path)
            } else {
                unlink(path)
            }
            guard !FileSystem.exists(path) else {
                throw ArtifactsError(.io, "\(path) is not a plain file and could not be removed; remove it by hand, or use another cache (THREETOFU_CACHE)")
            }
        }
        return path
    }

    /// A fresh file name in `ingest/` for a download of `digest` that this process alone writes
    /// (when another run holds the blob's lock but makes no progress).
    public func privatePartialPath(for digest: Digest) throws -> String {
        let directory = "\(root)/ingest"
        try makeStoreDirectory(directory)
        return "\(directory)/\(digest.encoded).\(getpid())-\(FileSystem.randomSuffix()).private"
    }

    /// Bytes already downloaded for `digest` (0 when there is no partial file).
    public func partialLength(for digest: Digest) -> Int64 {
        FileSystem.regularFileSize(partialPath(for: digest)) ?? 0
    }

    /// Deletes any partial download of `digest`.
    public func removePartial(for digest: Digest) {
        unlink(partialPath(for: digest))
    }

    /// Moves a finished download into `blobs/` when the SHA-256 the downloader computed over the
    /// whole stream is the digest's and the file has `size` bytes. No re-hashing: call it only
    /// while holding the blob's `lockBlob`, so no other process wrote the partial file meanwhile.
    /// On a mismatch the partial file is deleted (its bytes are wrong) and
    /// `digestMismatch`/`sizeMismatch` is thrown. A non-SHA-256 digest is verified by hashing.
    @discardableResult
    public func commit(partialFor digest: Digest, verifiedSHA256 hex: String, size: Int64) throws -> String {
        try commit(file: partialPath(for: digest), as: digest, verifiedSHA256: hex, size: size)
    }

    /// `commit(partialFor:…)` for a download in a file of its own (`FileOutput.ingestPath`),
    /// whose stream hash `hex` was computed while this process alone wrote it.
    @discardableResult
    public func commit(file partial: String, as digest: Digest, verifiedSHA256 hex: String, size: Int64) throws -> String {
        guard digest.algorithm == .sha256 else {
            return try verifyAndCommit(file: partial, as: digest, expectedSize: size)
        }
        guard let actualSize = FileSystem.regularFileSize(partial) else {
            throw ArtifactsError(.missingBlob, "no partial download for \(digest) at \(partial); download the blob again")
        }
        guard hex.lowercased() == digest.encoded else {
            unlink(partial)
            throw ArtifactsError(
                .digestMismatch,
                "blob \(digest): expected sha256 \(digest.encoded), the downloaded bytes hash to \(hex.lowercased()); the partial file was deleted, download it again (another route may be tampering)"
            )
        }
        guard actualSize == size else {
            unlink(partial)
            throw ArtifactsError(
                .sizeMismatch,
                "blob \(digest): expected \(size) bytes, the downloaded file has \(actualSize); the partial file was deleted, download it again"
            )
        }
        return try moveIntoBlobs(partial, digest: digest)
    }

    /// Hashes the partial file of `digest` (in 1 MiB chunks) and moves it into `blobs/` when it
    /// matches the digest and `expectedSize`; used after a resume, when part of the file came
    /// from an earlier run. On a mismatch the partial file is deleted and an error thrown.
    @discardableResult
    public func verifyAndCommitPartial(for digest: Digest, expectedSize: Int64?) throws -> String {
        try verifyAndCommit(file: partialPath(for: digest), as: digest, expectedSize: expectedSize)
    }

    /// `verifyAndCommitPartial(for:…)` for a download in a file of its own.
    @discardableResult
    public func verifyAndCommit(file partial: String, as digest: Digest, expectedSize: Int64?) throws -> String {
        guard FileSystem.regularFileSize(partial) != nil else {
            throw ArtifactsError(.missingBlob, "no partial download for \(digest) at \(partial); download the blob again")
        }
        let (hex, length) = try BlobHasher.hexOfFile(partial, algorithm: digest.algorithm)
        if let expectedSize, length != expectedSize {
            unlink(partial)
            throw ArtifactsError(
                .sizeMismatch,
                "blob \(digest): expected \(expectedSize) bytes, the downloaded file has \(length); the partial file was deleted, download it again"
            )
        }
        guard hex == digest.encoded else {
            unlink(partial)
            throw ArtifactsError(
                .digestMismatch,
                "blob \(digest): expected \(digest.algorithm.rawValue) \(digest.encoded), the downloaded file hashes to \(hex); the partial file was deleted, download it again (another route may be tampering)"
            )
        }
        return try moveIntoBlobs(partial, digest: digest)
    }

    /// Stores a small blob held in memory (a manifest or config) after checking its digest.
    @discardableResult
    public func ingest(data: Data, digest: Digest) throws -> String {
        let hex = BlobHasher.hex(of: data, algorithm: digest.algorithm)
        guard hex == digest.encoded else {
            throw ArtifactsError(
                .digestMismatch,
                "refusing to store \(data.count) bytes as \(digest): they hash to \(digest.algorithm.rawValue):\(hex); nothing was stored"
            )
        }
        if contains(digest, size: Int64(data.count)) {
            return path(of: digest)
        }
        let directory = "\(root)/ingest"
        try makeStoreDirectory(directory)
        let temporary = "\(directory)/\(digest.encoded).\(FileSystem.randomSuffix()).tmp"
        do {
            try FileSystem.writeNewFile(temporary, data)
            return try moveIntoBlobs(temporary, digest: digest)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// SHA-256 (as "sha256:<hex>") of a stored blob: its own digest when that is sha256 (the store
    /// verified it on the way in), else computed from the file.
    public func sha256(of digest: Digest) throws -> String {
        if digest.algorithm == .sha256 { return digest.string }
        return "sha256:" + (try BlobHasher.hexOfFile(path(of: digest), algorithm: .sha256).hex)
    }

    /// Loads a small verified blob, checking its digest again on the way out (a damaged cache
    /// entry is deleted so the next run fetches it afresh). Refuses blobs over `limit` bytes.
    public func read(_ digest: Digest, limit: Int = ContentStore.smallBlobLimit) throws -> Data {
        let file = path(of: digest)
        guard let size = FileSystem.regularFileSize(file) else {
            throw ArtifactsError(.missingBlob, "blob \(digest) is not in the content store at \(root); fetch it first")
        }
        guard size <= Int64(limit) else {
            throw ArtifactsError(
                .blobTooLarge,
                "blob \(digest) has \(size) bytes, more than the \(limit) bytes read into memory; stream it from \(file) instead"
            )
        }
        let data = try FileSystem.readWholeFile(file, size: size)
        let hex = BlobHasher.hex(of: data, algorithm: digest.algorithm)
        guard hex == digest.encoded else {
            unlink(file)
            throw ArtifactsError(
                .digestMismatch,
                "cached blob \(digest) at \(file) was damaged (it hashes to \(hex)); it was deleted, run again to fetch it afresh"
            )
        }
        return data
    }

    /// Whether the store holds `digest` with `size` bytes that really hash to it: the file is
    /// hashed again (a cache may be shared, stale or tampered with). A file that does not match is
    /// removed, so the blob is fetched afresh; returns false then.
    public func verifiedContains(_ digest: Digest, size: Int64) throws -> Bool {
        let file = path(of: digest)
        guard FileSystem.regularFileSize(file) == size else { return false }
        let fd = try FileSystem.openForReading(file)
        defer { close(fd) }
        let actual = try BlobHasher.hexOfFile(fd, path: file, algorithm: digest.algorithm)
        if actual.hex == digest.encoded, actual.length == size { return true }
        // Remove the file that was hashed, not one another run may have put there meanwhile.
        var hashed = stat(), now = stat()
        if fstat(fd, &hashed) == 0, lstat(file, &now) == 0, hashed.st_dev == now.st_dev, hashed.st_ino == now.st_ino {
            unlink(file)
        }
        return false
    }

    /// fsyncs `source`, makes it read-only and links it to its place under `blobs/`, then removes
    /// `source`. A blob already there is kept when it verifies (the bytes are the same), and
    /// replaced only when it does not (a damaged or planted file, or a link): a verified blob that
    /// another run may be reading is never swapped for another file.
    private func moveIntoBlobs(_ source: String, digest: Digest) throws -> String {
        let fd = try FileSystem.openForReading(source)
        do {
            try FileSystem.sync(fd, path: source)
        } catch {
            close(fd)
            throw error
        }
        _ = fchmod(fd, 0o444)
        close(fd)
        let destination = path(of: digest)
        let directory = FileSystem.directoryName(destination)
        try makeStoreDirectory(directory)
        defer { unlink(source) }
        for _ in 0..<3 {
            if link(source, destination) == 0 {
                FileSystem.syncDirectory(directory)
                return destination
            }
            switch errno {
            case EEXIST:
                if let size = FileSystem.regularFileSize(source), try verifiedContains(digest, size: size) {
                    return destination
                }
                // verifiedContains removed a regular file that did not match; anything else goes here.
                if FileSystem.isDirectoryNoFollow(destination) {
                    FileSystem.removeTree(destination)
                } else {
                    unlink(destination)
                }
            case EPERM, EOPNOTSUPP, EXDEV, EMLINK:
                // A file system without hard links: rename, which replaces.
                try FileSystem.move(source, to: destination)
                FileSystem.syncDirectory(directory)
                return destination
            default:
                throw FileSystem.ioError("link \(source) to", destination)
            }
        }
        throw ArtifactsError(.io, "\(destination) kept changing while blob \(digest) was committed; is another program writing to the cache at \(root)?")
    }

    /// Creates a directory of the store (and its missing parents) private to this user, 0700,
    /// whatever the umask: `checkRoot` refuses a store directory others can write.
    func makeStoreDirectory(_ path: String) throws {
        try FileSystem.makeDirectories(path, mode: 0o700)
    }

    // MARK: - Locks between runs

    /// Takes the lock on `digest`'s download, waiting (cancellably) while another run or task
    /// holds it. The holder alone writes `ingest/<hex>.partial` and commits the blob; a waiter,
    /// once it has the lock, usually finds the blob committed. Locks are `flock(2)` on
    /// `ingest/<hex>.lock`: the kernel releases them when their holder exits, also on SIGKILL,
    /// and the next holder resumes the partial file (and hashes all of it again).
    public func lockBlob(_ digest: Digest, poll: Duration = .milliseconds(20)) async throws -> BlobLock {
        while true {
            if let lock = try tryLockBlob(digest) { return lock }
            try await Task.sleep(for: poll)
        }
    }

    /// Whether the lock on `digest`'s download is held by this process (another download of the
    /// same run, on another route), rather than by another run sharing the cache.
    public func blobLockIsHeldHere(_ digest: Digest) -> Bool {
        BlobLock.isHeldInProcess("\(root)/ingest/\(digest.encoded).lock")
    }

    /// The lock on `digest`'s download if nobody holds it, else nil.
    public func tryLockBlob(_ digest: Digest) throws -> BlobLock? {
        let directory = "\(root)/ingest"
        try makeStoreDirectory(directory)
        let path = "\(directory)/\(digest.encoded).lock"
        // First among this process's own tasks: where flock is emulated with process-wide
        // fcntl locks (NFS), two tasks of one process would both get the file lock.
        guard BlobLock.claimInProcess(path) else { return nil }
        // Read-only is enough for flock, and lets another user of a shared cache lock it too.
        let fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            BlobLock.releaseInProcess(path)
            throw FileSystem.ioError("open the lock file", path, advice: "check that the cache at \(root) is yours and writable")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            BlobLock.releaseInProcess(path)
            throw ArtifactsError(.io, "the lock file \(path) is not a plain file; remove it, or use another cache (THREETOFU_CACHE)")
        }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return BlobLock(fd: fd, path: path) }
        let failure = errno
        close(fd)
        BlobLock.releaseInProcess(path)
        guard failure == EWOULDBLOCK || failure == EINTR else {
            throw ArtifactsError(.io, "could not lock \(path): \(String(cString: strerror(failure)))")
        }
        return nil
    }
}

/// A held `ContentStore.lockBlob`; released by `release()` or when it is deinitialised.
public final class BlobLock: @unchecked Sendable {
    // Safety: `fd` is written only by `release()`, which its one owner calls once.
    private var fd: Int32
    private let path: String

    private static let heldHere = NSLock()
    nonisolated(unsafe) private static var held: Set<String> = []

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { release() }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        Self.releaseInProcess(path)
    }

    /// Whether no task of this process holds the lock at `path`; if so, it is now this caller's.
    static func claimInProcess(_ path: String) -> Bool {
        heldHere.lock()
        defer { heldHere.unlock() }
        return held.insert(path).inserted
    }

    /// Whether a task of this process holds the lock at `path` (another download of the same run).
    static func isHeldInProcess(_ path: String) -> Bool {
        heldHere.lock()
        defer { heldHere.unlock() }
        return held.contains(path)
    }

    static func releaseInProcess(_ path: String) {
        heldHere.lock()
        held.remove(path)
        heldHere.unlock()
    }
}
