import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain-file artifacts (`3tofu fetch`, `3tofu bottle`): a download whose digest is learnt while it
/// streams enters the content store under that digest, and an output file is written, atomically,
/// from a verified stored blob whose bytes are hashed again on the way out.
public enum FileOutput {
    /// A fresh file in the store's ingest directory for a download whose digest is not known yet.
    public static func ingestPath(in store: ContentStore) throws -> String {
        let directory = "\(store.root)/ingest"
        try store.makeStoreDirectory(directory)
        return "\(directory)/download-\(FileSystem.randomSuffix()).partial"
    }

    /// Moves a finished download at `path` (this process's own ingest file) into the store as the
    /// blob `sha256:<hex>`, where `hex` and `size` were computed while the bytes streamed in (the
    /// store checks the size again). A blob the store already holds is kept when it verifies.
    @discardableResult
    public static func commitDownload(_ path: String, sha256 hex: String, size: Int64, into store: ContentStore) throws -> Digest {
        let digest: Digest
        do {
            digest = try Digest(algorithm: .sha256, encoded: hex.lowercased())
        } catch {
            unlink(path)
            throw ArtifactsError(.digestMismatch, "the download at \(path) has no usable SHA-256 ('\(hex)'); it was deleted, download it again")
        }
        try store.commit(file: path, as: digest, verifiedSHA256: hex, size: size)
        return digest
    }

    /// Writes the stored blob `digest` to `path` (a temporary sibling renamed into place when
    /// complete), hashing every byte copied; returns the hex SHA-256 of the written file, which
    /// equals the digest or nothing is written. With `journal`, the file can be taken back until
    /// the run keeps it.
    @discardableResult
    public static func write(blob digest: Digest, size: Int64, from store: ContentStore, to path: String, journal: CommitJournal? = nil) throws -> String {
        let source = store.path(of: digest)
        guard store.contains(digest, size: size) else {
            throw ArtifactsError(.missingBlob, "blob \(digest) (\(size) bytes) is not in the content store at \(store.root); fetch it first")
        }
        return try AtomicOutput.writeFile(at: path, journal: journal) { output, temporary in
            let (hex, copied) = try BlobHasher.copy(source, to: output, named: temporary, algorithm: digest.algorithm)
            guard hex == digest.encoded, copied == size else {
                unlink(source)
                throw ArtifactsError(
                    .digestMismatch,
                    "cached blob \(digest) at \(source) was damaged (\(copied) bytes hashing to \(hex)); it was deleted and nothing was written to \(path); run again")
            }
            return hex
        }
    }

    /// Copies the finished file at `path` to the open descriptor `output` (stdout for
    /// `pull --output -`), hashing every byte on its way: when the bytes sent do not hash to
    /// `sha256` (hex; what the writer computed while writing the file), `digestMismatch` is
    /// thrown, so the run fails although the reader already got them. A reader that went away
    /// (EPIPE) is `io`, saying so. Returns the number of bytes sent.
    @discardableResult
    public static func send(_ path: String, to output: Int32, sha256 expected: String) throws -> Int64 {
        let (hex, sent) = try BlobHasher.copy(path, to: output, named: "the reading program (stdout)", algorithm: .sha256)
        guard hex == expected.lowercased() else {
            throw ArtifactsError(
                .digestMismatch,
                "\(path) changed after it was written and verified (it hashes to \(hex), not \(expected)); the \(sent) bytes sent must not be used")
        }
        return sent
    }
}
