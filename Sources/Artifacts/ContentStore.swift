import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local cache of verified blobs, shared by every run.
///
/// Layout under `root`: `blobs/<algorithm>/<hex>` holds finished blobs, each of which was checked
/// against its digest before it was moved there (and made read-only); `ingest/<hex>.partial`
/// holds downloads in progress, which a later run may resume. Nothing lands in `blobs/` unless
/// its digest checked out. Every method does plain blocking file I/O; call the long ones
/// (`verifyAndCommitPartial`) through `BlockingIO.run` from async code.
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
            try? FileSystem.makeDirectories(directory)
        }
        return "\(directory)/\(digest.encoded).partial"
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
    /// whole stream is the digest's and the file has `size` bytes. No re-hashing. On a mismatch
    /// the partial file is deleted (its bytes are wrong) and `digestMismatch`/`sizeMismatch` is
    /// thrown. A non-SHA-256 digest is verified by hashing the file instead.
    @discardableResult
    public func commit(partialFor digest: Digest, verifiedSHA256 hex: String, size: Int64) throws -> String {
        guard digest.algorithm == .sha256 else {
            return try verifyAndCommitPartial(for: digest, expectedSize: size)
        }
        let partial = partialPath(for: digest)
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
        let partial = partialPath(for: digest)
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
        try FileSystem.makeDirectories(directory)
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
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ArtifactsError(.io, "could not read \(file): \(error)")
        }
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

    /// fsyncs `source`, makes it read-only and renames it to its place under `blobs/`.
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
        try FileSystem.makeDirectories(directory)
        try FileSystem.move(source, to: destination)
        FileSystem.syncDirectory(directory)
        return destination
    }
}
