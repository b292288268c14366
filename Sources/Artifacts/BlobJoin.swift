import Foundation
import OCI

#if canImport(Glibc)
import Glibc
#endif

/// A blob's file made of two parts (a split download): the first `prefix` bytes copied from
/// another file (the download of the blob's start, read as it grows), the rest already in the
/// file (the download of its tail, appended after a placeholder of `prefix` bytes). Every byte
/// is hashed in order as it goes into the file (the prefix) or is read back from it (the
/// rest), so the digest of the whole file is known when the last part is in, without reading
/// the file once more: `ContentStore.commit(file:as:verifiedSHA256:size:)` then checks it. The
/// file is this process's own (a private file): nothing else writes it meanwhile.
/// Not thread-safe: one caller at a time (calls may come from different threads in turn).
public final class BlobJoin: @unchecked Sendable {
    public let path: String
    public let prefix: Int64
    /// Prefix bytes copied and hashed so far.
    public private(set) var copied: Int64 = 0
    private var hasher: BlobHasher
    private let buffer: UnsafeMutableRawPointer
    private static let chunk = 1 << 20

    public init(file path: String, prefix: Int64, algorithm: OCIDigest.Algorithm) {
        self.path = path
        self.prefix = max(0, prefix)
        hasher = BlobHasher(algorithm)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.chunk, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    public var prefixIsIn: Bool { copied >= prefix }

    /// Copies (and hashes) the prefix's bytes from `source` up to `available` (what it holds
    /// now), at most `limit` bytes in this call.
    public func takePrefix(from source: String, available: Int64, limit: Int64 = 32 << 20) throws {
        let end = min(prefix, available, copied + limit)
        guard end > copied else { return }
        let input = try FileSystem.openForReading(source)
        defer { close(input) }
        let output = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard output >= 0 else { throw ArtifactsError(.io, "could not open \(path): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        while copied < end {
            let count = pread(input, buffer, Int(min(end - copied, Int64(Self.chunk))), off_t(copied))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw ArtifactsError(.io, "\(source) ended before byte \(end)") }
            var written = 0
            while written < count {
                let put = pwrite(output, buffer + written, count - written, off_t(copied) + off_t(written))
                if put < 0, errno == EINTR { continue }
                guard put > 0 else { throw ArtifactsError(.io, "could not write \(path): \(String(cString: strerror(errno)))") }
                written += put
            }
            hasher.update(UnsafeRawBufferPointer(start: buffer, count: count))
            copied += Int64(count)
        }
    }

    /// Once the prefix is in and the rest of the file downloaded: hashes the rest, read back from
    /// the file, and returns the whole file's digest (hex); the file must hold `size` bytes.
    public func finish(size: Int64) throws -> String {
        guard prefixIsIn else { throw ArtifactsError(.io, "\(path): the first \(prefix) bytes are not in yet") }
        let input = try FileSystem.openForReading(path)
        defer { close(input) }
        var offset = prefix
        while true {
            let count = pread(input, buffer, Self.chunk, off_t(offset))
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw ArtifactsError(.io, "could not read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            hasher.update(UnsafeRawBufferPointer(start: buffer, count: count))
            offset += Int64(count)
        }
        guard offset == size else {
            throw ArtifactsError(.sizeMismatch, "\(path) holds \(offset) bytes, the blob has \(size)")
        }
        return hasher.finalizeHex()
    }
}
