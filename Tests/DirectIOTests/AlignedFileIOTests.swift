import Foundation
import Testing
@testable import DirectIO

#if canImport(Glibc)
import Glibc
#endif

/// Round trips through the aligned writer and reader on the temp directory's file system and on
/// tmpfs (/dev/shm), with chunk sizes that cross buffer and block boundaries.
@Suite struct AlignedFileIOTests {
    static func temporaryDirectory(under root: String = NSTemporaryDirectory()) throws -> String {
        let path = (root as NSString).appendingPathComponent("directio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Writes `bytes` through a writer in chunks of the given sizes (cycled), then finishes.
    static func write(_ bytes: [UInt8], chunks: [Int], to fd: Int32, bufferSize: Int) throws -> AlignedFileWriter {
        let writer = AlignedFileWriter(fileDescriptor: fd, bufferSize: bufferSize)
        var offset = 0
        var index = 0
        while offset < bytes.count {
            let count = min(chunks[index % chunks.count], bytes.count - offset)
            try bytes[offset..<(offset + count)].withUnsafeBytes { try writer.write($0) }
            offset += count
            index += 1
        }
        try writer.finish()
        return writer
    }

    @Test("written bytes read back unchanged", arguments: [
        (0, [1]), (1, [1]), (4095, [7]), (4096, [4096]), (8192 * 3, [8192]), (100_003, [1, 16_384, 5000, 77]),
        (65_536 + 511, [65_536]),
    ])
    func roundTrip(size: Int, chunks: [Int]) throws {
        for root in [NSTemporaryDirectory(), "/dev/shm"] where FileManager.default.fileExists(atPath: root) {
            let directory = try Self.temporaryDirectory(under: root)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let path = directory + "/blob"
            let bytes = Self.randomBytes(size, seed: UInt64(size))
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            let writer = try Self.write(bytes, chunks: chunks, to: fd, bufferSize: 8192)
            close(fd)
            #expect(writer.bytesAccepted == Int64(size))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes), "\(root), \(size) bytes")

            let reader = try AlignedFileReader(path: path, bufferSize: 8192)
            var readBack: [UInt8] = []
            while true {
                let chunk = try reader.next()
                if chunk.isEmpty { break }
                #expect(chunk.count <= 8192)
                readBack.append(contentsOf: chunk)
            }
            #expect(readBack == bytes, "\(root), \(size) bytes read back")
        }
    }

    @Test("the tail that fills no whole block is written with O_DIRECT cleared again")
    func directModeEndsBuffered() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fd = open(directory + "/blob", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let writer = AlignedFileWriter(fileDescriptor: fd, bufferSize: 8192)
        let startedDirect = writer.isDirect
        #expect(startedDirect == ((fcntl(fd, F_GETFL) & DirectMode.flag) != 0 && DirectMode.flag != 0))
        try Self.randomBytes(20_000, seed: 3).withUnsafeBytes { try writer.write($0) }
        try writer.finish()
        #expect(!writer.isDirect, "20,000 bytes end in a partial block, written buffered")
        #expect(fcntl(fd, F_GETFL) & DirectMode.flag == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/blob"))
    }

    @Test("appending to a partial download of odd length stays buffered and keeps the old bytes")
    func resumeAtUnalignedEnd() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/partial"
        let first = Self.randomBytes(10_001, seed: 1)
        let rest = Self.randomBytes(30_000, seed: 2)
        try Data(first).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_WRONLY | O_APPEND)
        #expect(fd >= 0)
        let writer = try Self.write(rest, chunks: [16_384], to: fd, bufferSize: 8192)
        close(fd)
        #expect(!writer.isDirect)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(first + rest))
    }

    @Test("appending at an aligned end may go direct and keeps the old bytes")
    func resumeAtAlignedEnd() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/partial"
        let first = Self.randomBytes(8192, seed: 4)
        let rest = Self.randomBytes(50_000, seed: 5)
        try Data(first).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_WRONLY | O_APPEND)
        #expect(fd >= 0)
        _ = try Self.write(rest, chunks: [3000, 16_384], to: fd, bufferSize: 8192)
        close(fd)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(first + rest))
    }

    @Test("a full device is reported with its errno by finish, whether the tail or a buffer written behind failed")
    func noSpace() throws {
        for size in [100, 5000, 20_000] {
            let fd = open("/dev/full", O_WRONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            let writer = AlignedFileWriter(fileDescriptor: fd, bufferSize: 4096)
            let bytes = Self.randomBytes(size, seed: UInt64(size))
            // Whole buffers go to a write-behind thread: their failure surfaces at the next
            // buffer handed over or at finish, never silently.
            var thrown: DirectIOError?
            do {
                try bytes.withUnsafeBytes { try writer.write($0) }
                try writer.finish()
            } catch let error as DirectIOError {
                thrown = error
            }
            #expect(thrown == DirectIOError(code: ENOSPC), "\(size) bytes")
        }
    }

    @Test("a reader dropped before the end stops its read-ahead thread cleanly")
    func readerDroppedEarly() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/blob"
        let bytes = Self.randomBytes(200_000, seed: 8)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for reads in 0..<6 {
            let reader = try AlignedFileReader(path: path, bufferSize: 8192, readAheadBuffers: 3)
            var seen: [UInt8] = []
            for _ in 0..<reads { seen.append(contentsOf: try reader.next()) }
            #expect(seen == Array(bytes.prefix(seen.count)))
            #expect(seen.count == reads * 8192)
        }
    }

    @Test("after the end, further reads stay empty")
    func readPastEnd() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/small"
        try Data(Self.randomBytes(10, seed: 9)).write(to: URL(fileURLWithPath: path))
        let reader = try AlignedFileReader(path: path, bufferSize: 4096)
        #expect(try reader.next().count == 10)
        #expect(try reader.next().isEmpty)
        #expect(try reader.next().isEmpty)
    }

    @Test("a missing file is reported with ENOENT")
    func missingFile() {
        #expect(throws: DirectIOError(code: ENOENT)) { _ = try AlignedFileReader(path: "/nonexistent/3tofu-\(UUID().uuidString)") }
        #expect(DirectIOError(code: ENOENT).description == "No such file or directory")
    }
}
