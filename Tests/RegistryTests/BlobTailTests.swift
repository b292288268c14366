import Foundation
import OCI
import Registry
import Testing
import TestSupport
import Transport

/// `downloadBlobTail`, the range request behind a split blob, with libcurl against real servers:
/// nginx (honours Range) and a server that ignores Range (`FaultProxy` serving files: a 200 with
/// the whole blob to every request).
@Suite struct BlobTailTests {
    static let size = 128 * 1024 * 1024
    static let start: Int64 = 5_000_000

    struct Setup {
        let folder: TemporaryDirectory
        let blob: Data
        let descriptor: Descriptor
        let tail: String
    }

    /// A blob of `size` bytes under v2/a/b/blobs/ in a folder, and a placeholder of `start` bytes for its tail.
    static func setUp() throws -> Setup {
        let folder = try TemporaryDirectory(prefix: "tail")
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        defer { try? random.close() }
        let blob = random.readData(ofLength: size)
        let digest = try Digest(parsing: "sha256:" + ScriptedTransport.sha256Hex(blob))
        try FileManager.default.createDirectory(atPath: folder.file("v2/a/b/blobs"), withIntermediateDirectories: true)
        try blob.write(to: URL(fileURLWithPath: folder.file("v2/a/b/blobs/\(digest)")))
        let tail = folder.file("tail.private")
        #expect(FileManager.default.createFile(atPath: tail, contents: nil))
        #expect(truncate(tail, off_t(start)) == 0)
        return Setup(folder: folder, blob: blob, descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: Int64(size)), tail: tail)
    }

    static func client(_ host: String) throws -> RegistryClient {
        RegistryClient(transport: try CurlTransport(configuration: TransportConfiguration()), insecureRegistries: [host])
    }

    @Test func aServerThatHonoursRangeFillsTheTailAfterThePlaceholder() async throws {
        let setup = try Self.setUp()
        let nginx = try await NginxServer(root: setup.folder.path)
        defer { nginx.stop() }
        let host = "127.0.0.1:\(nginx.port)"
        let received = try await Self.client(host).downloadBlobTail(
            registry: host, repository: "a/b", descriptor: setup.descriptor, from: Self.start, to: setup.tail)
        #expect(received == Int64(Self.size) - Self.start)
        let written = try Data(contentsOf: URL(fileURLWithPath: setup.tail))
        #expect(written.count == Self.size)
        #expect(written.suffix(from: Int(Self.start)) == setup.blob.suffix(from: Int(Self.start)), "the tail's bytes follow the placeholder")
        #expect(nginx.accessLog().contains(" 206 "), "\(nginx.accessLog())")
    }

    @Test func aServerThatAnswersWithTheWholeBlobIsStoppedAtOnce() async throws {
        let setup = try Self.setUp()
        let server = try await FaultProxy(upstream: nil, serveFiles: setup.folder.path)
        defer { server.stop() }
        // (One byte of padding, no Content-Length: only so that the server logs what it sent
        // before the client went away.)
        try server.inject([.init(path: "/blobs/", times: nil, .padBody(extra: 1, announce: false))])
        let error = await #expect(throws: RegistryError.self) {
            _ = try await Self.client(server.host).downloadBlobTail(
                registry: server.host, repository: "a/b", descriptor: setup.descriptor, from: Self.start, to: setup.tail)
        }
        #expect(error?.message.contains("with the whole blob (it ignores Range)") == true, "\(String(describing: error))")
        // Stopped at its first bytes: socket buffers went out, not the 128 MiB the body limit allows.
        var sent: [(path: String, bytes: Int)] = []
        for _ in 0..<100 where sent.isEmpty {
            sent = server.bytesSent()
            if sent.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        let bytes = try #require(sent.first?.bytes, "the server logged nothing sent")
        #expect(bytes < 48 * 1024 * 1024, "\(bytes) bytes went out")
    }
}
