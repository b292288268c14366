import Crypto
import Foundation
import OCI

/// Incremental hashing for whichever algorithm a digest uses.
struct BlobHasher {
    private enum State {
        case sha256(SHA256)
        case sha512(SHA512)
    }

    private var state: State

    init(_ algorithm: OCIDigest.Algorithm) {
        switch algorithm {
        case .sha256: state = .sha256(SHA256())
        case .sha512: state = .sha512(SHA512())
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha256(hasher)
        case .sha512(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha512(hasher)
        }
    }

    mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// Lowercase hex of the digest so far.
    func finalizeHex() -> String {
        switch state {
        case .sha256(let hasher): hexString(hasher.finalize())
        case .sha512(let hasher): hexString(hasher.finalize())
        }
    }

    static func hex(of data: Data, algorithm: OCIDigest.Algorithm) -> String {
        var hasher = BlobHasher(algorithm)
        hasher.update(data)
        return hasher.finalizeHex()
    }

    /// Copies the regular file at `path` (not through a link) to the open descriptor `output`
    /// (`name` says what it is in errors), hashing every byte on its way: the one copy loop of the
    /// outputs that must be checked against a digest after the copy.
    static func copy(_ path: String, to output: Int32, named name: String, algorithm: OCIDigest.Algorithm) throws -> (hex: String, length: Int64) {
        let input = try FileSystem.openForReading(path)
        defer { close(input) }
        return try hexOfFile(input, path: path, algorithm: algorithm) { chunk in
            try FileSystem.writeAll(output, chunk, path: name)
        }
    }

    /// Whether the regular file at `path` (not a link) has `size` bytes that hash to `digest`.
    static func fileMatches(_ path: String, digest: OCIDigest, size: Int64) throws -> Bool {
        guard FileSystem.regularFileSize(path) == size else { return false }
        let actual = try hexOfFile(path, algorithm: digest.algorithm)
        return actual.hex == digest.encoded && actual.length == size
    }

    /// Hashes `path` in 1 MiB chunks, returning the hex digest and the number of bytes read.
    static func hexOfFile(_ path: String, algorithm: OCIDigest.Algorithm) throws -> (hex: String, length: Int64) {
        let fd = try FileSystem.openForReading(path)
        defer { close(fd) }
        return try hexOfFile(fd, path: path, algorithm: algorithm)
    }

    /// Hashes what is left to read of the file open at `fd` (`path` names it in errors), in 1 MiB
    /// chunks, handing each chunk to `each` after hashing it.
    static func hexOfFile(
        _ fd: Int32, path: String, algorithm: OCIDigest.Algorithm, each: (UnsafeRawBufferPointer) throws -> Void = { _ in }
    ) throws -> (hex: String, length: Int64) {
        var hasher = BlobHasher(algorithm)
        var length: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: FileSystem.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try FileSystem.readSome(fd, into: buffer, path: path)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(chunk)
            try each(chunk)
            length += Int64(count)
        }
        return (hasher.finalizeHex(), length)
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

func hexString<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    var characters: [UInt8] = []
    for byte in bytes {
        characters.append(hexDigits[Int(byte >> 4)])
        characters.append(hexDigits[Int(byte & 0x0f)])
    }
    return String(decoding: characters, as: UTF8.self)
}
