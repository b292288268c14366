@testable import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// TarWriter output read back by the system `tar`.
@Suite struct TarWriterTests {
    /// Writes an archive with `body` and returns its path.
    func archive(in directory: TemporaryDirectory, _ body: (TarWriter) throws -> Void) throws -> (path: String, writer: TarWriter) {
        let path = directory.file("out.tar")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        let writer = TarWriter(fileDescriptor: fd, label: path)
        try body(writer)
        try writer.finish()
        return (path, writer)
    }

    @Test func systemTarListsNamesSizesModesAndZeroMtime() throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        let source = directory.file("big.bin")
        // Larger than one 1 MiB chunk and not a multiple of 512.
        let big = Data((0..<(3 << 19) + 7).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try big.write(to: URL(fileURLWithPath: source))
        let (path, writer) = try archive(in: directory) { tar in
            try tar.addDirectory(name: "blobs")
            try tar.addFile(name: "blobs/small.json", data: Data("{}\n".utf8))
            try tar.addFile(name: "blobs/big.bin", contentsOf: source, size: Int64(big.count), digest: try Digest(parsing: "sha256:" + Shell.sha256Hex(big)))
            try tar.addFile(name: "empty", data: Data())
        }
        let written = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Int64(written.count) == writer.bytesWritten)
        #expect(written.count % 512 == 0)
        #expect(try Shell.sha256Hex(written) == writer.sha256Hex)

        let listing = try Shell.check(["tar", "--numeric-owner", "--utc", "-tvf", path], env: ["TZ": "UTC"])
        let lines = listing.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        // drwxr-xr-x 0/0 0 1970-01-01 00:00 blobs/
        #expect(lines.map { $0.last ?? "" } == ["blobs/", "blobs/small.json", "blobs/big.bin", "empty"])
        #expect(lines.map { $0[0] } == ["drwxr-xr-x", "-rw-r--r--", "-rw-r--r--", "-rw-r--r--"])
        #expect(lines.allSatisfy { $0[1] == "0/0" && $0[3] == "1970-01-01" && $0[4] == "00:00" })
        #expect(lines.map { $0[2] } == ["0", "3", String(big.count), "0"])

        let extracted = directory.file("x")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        try Shell.check(["tar", "-C", extracted, "-xf", path])
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(extracted)/blobs/big.bin")) == big)
        #expect(try String(contentsOfFile: "\(extracted)/blobs/small.json", encoding: .utf8) == "{}\n")
    }

    @Test func longNamesRoundTripThroughPAXHeaders() throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        let long = (0..<6).map { "component-number-\($0)-of-a-long-path" }.joined(separator: "/") + "/file-é.txt"
        #expect(long.utf8.count > 100)
        let (path, _) = try archive(in: directory) { tar in
            try tar.addFile(name: long, data: Data("long\n".utf8))
            try tar.addDirectory(name: long + "-dir")
        }
        let names = try Shell.check(["tar", "-tf", path]).split(separator: "\n").map(String.init)
        #expect(names == [long, long + "-dir/"])
        let extracted = directory.file("x")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        try Shell.check(["tar", "-C", extracted, "-xf", path])
        #expect(try String(contentsOfFile: "\(extracted)/\(long)", encoding: .utf8) == "long\n")
    }

    @Test func identicalInputGivesIdenticalBytes() throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        let first = try archive(in: directory) { try $0.addFile(name: "a", data: Data("x".utf8)) }.writer.sha256Hex
        let second = try archive(in: directory) { try $0.addFile(name: "a", data: Data("x".utf8)) }.writer.sha256Hex
        #expect(first != nil)
        #expect(first == second)
    }

    @Test(arguments: ["", "/etc/passwd", "../escape", "a/../../b", "a/..", "nul\u{0}byte"])
    func unsafeNamesAreRefused(name: String) throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        _ = try archive(in: directory) { tar in
            #expect(throws: ArtifactsError.self) { try tar.addFile(name: name, data: Data()) }
            #expect(throws: ArtifactsError.self) { try tar.addDirectory(name: name) }
        }
    }

    @Test func aSourceShorterThanItsSizeIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        let source = directory.file("short")
        try Data("abc".utf8).write(to: URL(fileURLWithPath: source))
        _ = try archive(in: directory) { tar in
            let error = #expect(throws: ArtifactsError.self) {
                try tar.addFile(name: "short", contentsOf: source, size: 10, digest: try Digest(parsing: "sha256:" + Shell.sha256Hex(Data("abc".utf8))))
            }
            #expect(error?.code == .sizeMismatch)
        }
    }

    /// A file that changed since it was verified (same size, other bytes) is caught on its way into
    /// the archive: the member's bytes are hashed against the digest they were agreed under.
    @Test func aMemberWhoseBytesDoNotHashToItsDigestIsRefused() throws {
        let directory = try TemporaryDirectory(prefix: "tar")
        let source = directory.file("layer")
        let agreed = Data((0..<(3 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var tampered = agreed
        tampered[tampered.count - 1] ^= 0xff
        try tampered.write(to: URL(fileURLWithPath: source))
        let digest = try Digest(parsing: "sha256:" + Shell.sha256Hex(agreed))
        let path = directory.file("out.tar")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let tar = TarWriter(fileDescriptor: fd, label: path)
        let error = #expect(throws: ArtifactsError.self) {
            try tar.addFile(name: "blobs/sha256/\(digest.encoded)", contentsOf: source, size: Int64(tampered.count), digest: digest)
        }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains(digest.string) == true)
    }

    @Test(arguments: [("path", "a", "9 path=a\n"), ("size", "8589934592", "19 size=8589934592\n"), ("k", String(repeating: "v", count: 94), "101 k=" + String(repeating: "v", count: 94) + "\n")])
    func paxRecordsCountTheirOwnLength(key: String, value: String, expected: String) {
        let record = String(decoding: TarWriter.paxRecords([(key, value)]), as: UTF8.self)
        #expect(record == expected)
        #expect(record.utf8.count == Int(record.split(separator: " ").first ?? "") ?? -1)
    }

    @Test func ustarSizeFieldHoldsElevenOctalDigits() throws {
        let header = TarWriter.header(name: Array("x".utf8), size: 0o77777777777, type: UInt8(ascii: "0"), mode: 0o644)
        #expect(String(decoding: header[124..<135], as: UTF8.self) == "77777777777")
    }
}
