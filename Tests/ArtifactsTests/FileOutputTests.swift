import Artifacts
import Foundation
import TestSupport
import Testing

/// `FileOutput.send`, behind `pull --output -`: the bytes that leave are hashed on their way out
/// against the SHA-256 the writer computed, so a staged file that changed is never passed on
/// with success.
@Suite struct FileOutputTests {
    @Test func sendPassesTheFileOnAndCountsIt() throws {
        let directory = try TemporaryDirectory(prefix: "send")
        let source = directory.file("staged.tar")
        let bytes = Data((0..<(3 << 19) + 5).map { UInt8(truncatingIfNeeded: $0 &* 11) })
        try bytes.write(to: URL(fileURLWithPath: source))
        let target = directory.file("received")
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let sent = try FileOutput.send(source, to: fd, sha256: try Shell.sha256Hex(bytes))
        #expect(sent == Int64(bytes.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == bytes)
    }

    @Test func sendRefusesAFileThatChanged() throws {
        let directory = try TemporaryDirectory(prefix: "send")
        let source = directory.file("staged.tar")
        let written = Data(repeating: 0x61, count: 100_000)
        var changed = written
        changed[50_000] = 0x62
        try changed.write(to: URL(fileURLWithPath: source))
        let fd = open("/dev/null", O_WRONLY)
        defer { close(fd) }
        let error = #expect(throws: ArtifactsError.self) { try FileOutput.send(source, to: fd, sha256: try Shell.sha256Hex(written)) }
        #expect(error?.code == .digestMismatch)
    }
}
