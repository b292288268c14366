import Artifacts
import Foundation
import OCI
import Testing
import TestSupport

/// A split blob's file joined from the head download's first bytes (read as its file grows) and
/// the tail already in the file: the digest comes out of the bytes as they went in.
@Suite struct BlobJoinTests {
    static let blob = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
    static let prefix = 1_234_567

    /// The head's file holding `headBytes` (its first bytes, `corrupt` flips one before the
    /// prefix ends), and the tail's file: a hole of `prefix` bytes, then the rest of the blob.
    static func files(headBytes: Data, in folder: TemporaryDirectory) throws -> (head: String, tail: String) {
        let head = folder.file("head.partial")
        let tail = folder.file("tail.private")
        try headBytes.write(to: URL(fileURLWithPath: head))
        #expect(FileManager.default.createFile(atPath: tail, contents: nil))
        #expect(truncate(tail, off_t(prefix)) == 0)
        let handle = try #require(FileHandle(forWritingAtPath: tail))
        try handle.seekToEnd()
        try handle.write(contentsOf: blob.suffix(from: prefix))
        try handle.close()
        return (head, tail)
    }

    @Test func theHeadsBytesFollowedAsTheyGrowMakeTheBlobAndItsDigest() throws {
        let folder = try TemporaryDirectory(prefix: "join")
        let (head, tail) = try Self.files(headBytes: Self.blob.prefix(700_000), in: folder)
        let join = BlobJoin(file: tail, prefix: Int64(Self.prefix), algorithm: .sha256)
        try join.takePrefix(from: head, available: 700_000)
        #expect(join.copied == 700_000 && !join.prefixIsIn)
        #expect(throws: (any Error).self) { _ = try join.finish(size: Int64(Self.blob.count)) }
        // The head's file grows past the prefix; only the prefix is taken.
        try Self.blob.prefix(2_000_000).write(to: URL(fileURLWithPath: head))
        try join.takePrefix(from: head, available: 2_000_000, limit: 100_000)
        #expect(join.copied == 800_000, "at most `limit` bytes a call")
        try join.takePrefix(from: head, available: 2_000_000)
        #expect(join.copied == Int64(Self.prefix) && join.prefixIsIn)
        let hex = try join.finish(size: Int64(Self.blob.count))
        #expect(hex == ScriptedTransport.sha256Hex(Self.blob))
        #expect(try Data(contentsOf: URL(fileURLWithPath: tail)) == Self.blob)
    }

    @Test func aWrongByteInTheHeadGivesAnotherDigest() throws {
        let folder = try TemporaryDirectory(prefix: "join")
        var wrong = Self.blob.prefix(Self.prefix)
        wrong[wrong.startIndex + 1000] ^= 0xFF
        let (head, tail) = try Self.files(headBytes: wrong, in: folder)
        let join = BlobJoin(file: tail, prefix: Int64(Self.prefix), algorithm: .sha256)
        try join.takePrefix(from: head, available: Int64(Self.prefix))
        #expect(try join.finish(size: Int64(Self.blob.count)) != ScriptedTransport.sha256Hex(Self.blob))
    }
}
