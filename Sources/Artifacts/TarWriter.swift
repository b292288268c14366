import Crypto
import DirectIO
import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A streaming, deterministic tar writer (USTAR, with PAX extended headers for names over 100
/// bytes and sizes of 8 GiB or more) that writes to a file descriptor it does not own.
///
/// Every entry has mtime 0, uid/gid 0, empty user and group names, mode 0644 (files) or 0755
/// (directories), so the same content always gives the same bytes. It hashes what it writes:
/// after `finish()`, `sha256Hex` is the SHA-256 of the whole archive.
///
/// Output goes through an `AlignedFileWriter` (1 MiB requests, O_DIRECT where the file system
/// takes it) and files are read with an `AlignedFileReader`: an archive of blobs that are already
/// on disk is assembled without filling the page cache twice. Nothing reaches the file
/// descriptor's file in full until `finish()`.
public final class TarWriter {
    private let output: AlignedFileWriter
    private let label: String
    private var hasher = SHA256()
    private var finished = false
    public private(set) var bytesWritten: Int64 = 0
    /// SHA-256 of the archive, available after `finish()`.
    public private(set) var sha256Hex: String?

    static let blockSize = 512
    private static let ustarMaximumSize: Int64 = 0o77777777777

    /// `label` names the output in error messages (usually its path). The archive starts at the
    /// file descriptor's current offset; the descriptor stays the caller's to fsync and close
    /// (after `finish()`).
    public init(fileDescriptor: Int32, label: String = "the tar archive") {
        output = AlignedFileWriter(fileDescriptor: fileDescriptor)
        self.label = label
    }

    /// Adds a regular file holding `data`.
    public func addFile(name: String, data: Data) throws {
        try writeHeader(name: name, size: Int64(data.count), isDirectory: false)
        try emit(data)
        try pad(Int64(data.count))
    }

    /// Adds a regular file whose `size` bytes are read from `path` in 1 MiB chunks, hashed on
    /// their way in: when they do not hash to `digest` (the cached file changed since it was
    /// verified), `digestMismatch` is thrown and the archive must not be kept. Throws
    /// `sizeMismatch` if the file is shorter than `size`; only `size` bytes are ever taken.
    public func addFile(name: String, contentsOf path: String, size: Int64, digest: OCI.Digest) throws {
        guard size >= 0 else {
            throw ArtifactsError(.sizeMismatch, "cannot add \(path) to \(label) with negative size \(size)")
        }
        let input: AlignedFileReader
        do {
            input = try AlignedFileReader(path: path)
        } catch {
            throw ArtifactsError(.io, "could not open \(path) to add it to \(label): \(error)")
        }
        try writeHeader(name: name, size: size, isDirectory: false)
        var member = BlobHasher(digest.algorithm)
        var remaining = size
        while remaining > 0 {
            let chunk: UnsafeRawBufferPointer
            do {
                chunk = try input.next()
            } catch {
                throw ArtifactsError(.io, "could not read \(path) while adding it to \(label): \(error)")
            }
            guard !chunk.isEmpty else {
                throw ArtifactsError(
                    .sizeMismatch,
                    "\(path) has \(size - remaining) bytes, \(size) were expected while adding it to \(label) as \(name); the file is damaged or was truncated"
                )
            }
            let taken = UnsafeRawBufferPointer(rebasing: chunk.prefix(Int(min(Int64(chunk.count), remaining))))
            member.update(taken)
            try emit(taken)
            remaining -= Int64(taken.count)
        }
        let hex = member.finalizeHex()
        guard hex == digest.encoded else {
            throw ArtifactsError(
                .digestMismatch,
                "\(path) no longer hashes to \(digest) (it hashes to \(digest.algorithm.rawValue):\(hex)) while adding it to \(label): the cache changed under this run; nothing was written, run again"
            )
        }
        try pad(size)
    }

    /// Adds a regular file of `size` bytes taken from a download as it arrives, starting with
    /// `first` (what `layer.next()` returned first). Throws `LiveLayerAbandoned` if the download
    /// is abandoned or hands over more or fewer than `size` bytes: the archive then holds bytes
    /// that must not be kept, and the caller starts again (after `abandon()`).
    func addFile(name: String, size: Int64, digest: OCI.Digest, first: LiveChunk, rest layer: any LiveLayer) throws {
        guard size >= 0 else { throw LiveLayerAbandoned(digest: digest) }
        try writeHeader(name: name, size: size, isDirectory: false)
        var remaining = size
        var chunk = first
        while true {
            switch chunk {
            case .bytes(let data):
                guard Int64(data.count) <= remaining else { throw LiveLayerAbandoned(digest: digest) }
                try emit(data)
                remaining -= Int64(data.count)
            case .verified:
                guard remaining == 0 else { throw LiveLayerAbandoned(digest: digest) }
                try pad(size)
                return
            case .abandoned:
                throw LiveLayerAbandoned(digest: digest)
            }
            chunk = layer.next()
        }
    }

    /// Gives up on this archive: waits for the write in flight and writes nothing more (also not
    /// the end blocks). The caller truncates or removes the file.
    func abandon() {
        finished = true
        try? output.finish()
    }

    /// Adds a directory entry (`name/`).
    public func addDirectory(name: String) throws {
        try writeHeader(name: name, size: 0, isDirectory: true)
    }

    /// Writes the two zero blocks that end an archive and everything still buffered. Adds nothing
    /// to the file descriptor beyond that (no fsync, no close).
    public func finish() throws {
        guard !finished else { return }
        try emit(Data(count: 2 * Self.blockSize))
        do {
            try output.finish()
        } catch {
            throw Self.writeError(error, label)
        }
        finished = true
        sha256Hex = hexString(hasher.finalize())
    }

    /// Checks a member name: not empty, not absolute, no `..` component, no NUL.
    public static func validate(name: String) throws {
        guard !name.isEmpty else {
            throw ArtifactsError(.invalidName, "a tar member name is empty; give a relative path such as blobs/sha256/<hex>")
        }
        guard !name.hasPrefix("/") else {
            throw ArtifactsError(.invalidName, "tar member name \"\(name)\" is absolute; member names must be relative paths")
        }
        guard !name.utf8.contains(0) else {
            throw ArtifactsError(.invalidName, "tar member name \"\(name)\" contains a NUL byte")
        }
        guard !name.split(separator: "/", omittingEmptySubsequences: false).contains("..") else {
            throw ArtifactsError(.invalidName, "tar member name \"\(name)\" has a '..' component, which could escape the extraction directory")
        }
    }

    // MARK: - Headers

    private func writeHeader(name rawName: String, size: Int64, isDirectory: Bool) throws {
        guard !finished else {
            throw ArtifactsError(.io, "cannot add \(rawName) to \(label): the archive is already finished")
        }
        try Self.validate(name: rawName)
        var name = rawName
        while name.hasSuffix("/") { name.removeLast() }
        if isDirectory { name += "/" }
        let nameBytes = Array(name.utf8)

        var pax: [(String, String)] = []
        if nameBytes.count > 100 { pax.append(("path", name)) }
        if size > Self.ustarMaximumSize { pax.append(("size", String(size))) }
        if !pax.isEmpty {
            let records = Self.paxRecords(pax)
            let headerName = Array("PaxHeaders/".utf8) + Array(nameBytes.suffix(100 - 11))
            try emit(Self.header(name: Self.truncated(headerName), size: Int64(records.count), type: UInt8(ascii: "x"), mode: 0o644))
            try emit(records)
            try pad(Int64(records.count))
        }
        let type = isDirectory ? UInt8(ascii: "5") : UInt8(ascii: "0")
        try emit(Self.header(
            name: Self.truncated(nameBytes), size: size > Self.ustarMaximumSize ? 0 : size, type: type,
            mode: isDirectory ? 0o755 : 0o644))
    }

    /// At most 100 bytes, cut on a UTF-8 character boundary.
    private static func truncated(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count > 100 else { return bytes }
        var end = 100
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[0..<end])
    }

    /// `"<length> <key>=<value>\n"` records, where length counts the whole record.
    static func paxRecords(_ pairs: [(String, String)]) -> Data {
        var data = Data()
        for (key, value) in pairs {
            let body = " \(key)=\(value)\n"
            let bodyLength = body.utf8.count
            var length = bodyLength + String(bodyLength).utf8.count
            if String(length).utf8.count + bodyLength != length {
                length = bodyLength + String(length).utf8.count
            }
            data.append(contentsOf: Array("\(length)\(body)".utf8))
        }
        return data
    }

    static func header(name: [UInt8], size: Int64, type: UInt8, mode: Int) -> Data {
        var block = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (index, byte) in bytes.enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(Int64(mode), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)  // uid
        put(octal(0, width: 8), at: 116)  // gid
        put(octal(size, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)  // mtime
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)  // checksum placeholder
        block[156] = type
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        put(octal(0, width: 8), at: 329)  // devmajor
        put(octal(0, width: 8), at: 337)  // devminor
        let checksum = block.reduce(0) { $0 + Int($1) }
        let digits = String(checksum, radix: 8)
        put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, UInt8(ascii: " ")], at: 148)
        return Data(block)
    }

    // MARK: - Output

    private func pad(_ size: Int64) throws {
        let remainder = Int(size % Int64(Self.blockSize))
        if remainder != 0 {
            try emit(Data(count: Self.blockSize - remainder))
        }
    }

    private func emit(_ data: Data) throws {
        try data.withUnsafeBytes { try emit($0) }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        do {
            try output.write(bytes)
        } catch {
            throw Self.writeError(error, label)
        }
        bytesWritten += Int64(bytes.count)
    }

    private static func writeError(_ error: DirectIOError, _ label: String) -> ArtifactsError {
        let advice = error.code == ENOSPC || error.code == EDQUOT ? "free some space or write elsewhere" : "check the file system"
        return ArtifactsError(.io, "could not write to \(label): \(error); \(advice)")
    }
}
