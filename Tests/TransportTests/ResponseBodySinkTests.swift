import Foundation
import Testing
import TestSupport
import Transport

/// The one body sink every transport writes through (libcurl's lane, the remote curl, `3tofu
/// agent`): where a body goes by destination and status, what is kept of an error body, and the
/// limits. Real files in a temporary folder; no network.
@Suite struct ResponseBodySinkTests {
    static func take(_ sink: ResponseBodySink, _ bytes: Data, status: Int) throws(ResponseBodySink.Failure) {
        var result: Result<Void, ResponseBodySink.Failure> = .success(())
        bytes.withUnsafeBytes { buffer in
            do throws(ResponseBodySink.Failure) { try sink.take(buffer, status: status) } catch { result = .failure(error) }
        }
        try result.get()
    }

    /// (destination, status) → bytes kept in `body`, whether the file gets them.
    @Test(arguments: [
        ("memory", 200, 70_000, false), ("memory", 404, 70_000, false),
        ("discard", 200, 0, false), ("discard", 404, ResponseBodySink.errorBodyCap, false), ("discard", 500, ResponseBodySink.errorBodyCap, false),
        ("file", 200, 0, true), ("file", 404, ResponseBodySink.errorBodyCap, false),
    ])
    func whereABodyGoes(destination: String, status: Int, kept: Int, toFile: Bool) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("body")
        let target: BodyDestination = switch destination {
        case "memory": .memory(limit: 1 << 20)
        case "discard": .discard
        default: .file(path: path)
        }
        let sink = ResponseBodySink(request: HTTPRequest(url: "http://h/b"), destination: target)
        let bytes = Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0) })
        try Self.take(sink, bytes.prefix(30_000), status: status)
        try Self.take(sink, bytes.suffix(from: 30_000), status: status)
        try sink.closeFile()
        #expect(sink.length == 70_000)
        #expect(sink.sha256Hex() == (try Shell.sha256Hex(bytes)), "sha256sum, another implementation, agrees")
        #expect(sink.body == bytes.prefix(kept))
        #expect(FileManager.default.contents(atPath: path) == (toFile ? bytes : nil))
    }

    @Test func a206AppendsAnotherSuccessReplacesAndAnEmptySuccessStillMakesTheFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("blob.part")
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path))
        let resumed = ResponseBodySink(request: HTTPRequest(url: "http://h/b", rangeStart: 3), destination: .file(path: path))
        try Self.take(resumed, Data("def".utf8), status: 206)
        try resumed.closeFile()
        #expect(FileManager.default.contents(atPath: path) == Data("abcdef".utf8))

        let replaced = ResponseBodySink(request: HTTPRequest(url: "http://h/b"), destination: .file(path: path))
        try Self.take(replaced, Data("xy".utf8), status: 200)
        try replaced.closeFile()
        #expect(FileManager.default.contents(atPath: path) == Data("xy".utf8))

        let empty = folder.path("empty")
        let nothing = ResponseBodySink(request: HTTPRequest(url: "http://h/e"), destination: .file(path: empty))
        try nothing.finishEmptyBody(status: 200)
        try nothing.closeFile()
        #expect(FileManager.default.contents(atPath: empty) == Data())
        let missing = ResponseBodySink(request: HTTPRequest(url: "http://h/e"), destination: .file(path: folder.path("not-for-404")))
        try missing.finishEmptyBody(status: 404)
        #expect(!FileManager.default.fileExists(atPath: folder.path("not-for-404")))
    }

    @Test func limitsRefuseBeforeTheBytesPassThem() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.path("blob")
        let request = HTTPRequest(url: "http://h/b", maximumBodyLength: 10)
        let sink = ResponseBodySink(request: request, destination: .file(path: path))
        let limit = try #require(BodyLimit(request: request, status: 200))
        #expect(throws: ResponseBodySink.Failure.pastBodyLimit(limit, announced: 11)) { try sink.checkAnnounced(11, status: 200) }
        try sink.checkAnnounced(10, status: 200)
        // A 404's body is no blob: not held to the blob's size.
        try sink.checkAnnounced(1_000, status: 404)
        try Self.take(sink, Data(count: 8), status: 200)
        #expect(throws: ResponseBodySink.Failure.pastBodyLimit(limit, announced: nil)) { try Self.take(sink, Data(count: 3), status: 200) }
        try sink.closeFile()
        #expect(FileManager.default.contents(atPath: path)?.count == 8, "no byte past the limit reached the file")

        let memory = ResponseBodySink(request: HTTPRequest(url: "http://h/m"), destination: .memory(limit: 5))
        #expect(throws: ResponseBodySink.Failure.bodyTooLarge(limit: 5)) { try Self.take(memory, Data(count: 6), status: 200) }
    }

    /// One message per failure, for every transport: the route is named where it matters.
    @Test func failuresSayWhatWhereAndWhatToDo() {
        let limit = BodyLimit(request: HTTPRequest(url: "u", maximumBodyLength: 10), status: 200)!
        let cut = ResponseBodySink.Failure.pastBodyLimit(limit, announced: nil).error(url: "http://h/b", via: "ssh://u@h:22")
        #expect(cut.kind == .bodyTooLarge && cut.url == "http://h/b")
        #expect(cut.detail == "the server (via ssh://u@h:22) sent more than the 10 bytes expected; stopped there, nothing past them was kept")
        let full = ResponseBodySink.Failure.fileWrite(path: "/c/blob", errno: ENOSPC).error(url: "http://h/b", via: nil)
        #expect(full.kind == .io)
        #expect(full.detail == "could not write to /c/blob: No space left on device; check that the output directory exists, is writable and has free space")
        let memory = ResponseBodySink.Failure.bodyTooLarge(limit: 5).error(url: "http://h/m", via: "ssh://u@h:22")
        #expect(memory.kind == .bodyTooLarge)
        #expect(memory.detail == "the response body is larger than the limit of 5 bytes; the server sent more than expected; the caller's cap protects memory")
    }
}
