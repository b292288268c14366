import Foundation
import Testing
import Transport

@Suite("CurlTransport bodies and destinations")
struct CurlTransportBodyTests {
    let transport: CurlTransport

    init() throws {
        transport = try CurlTransport(configuration: TransportConfiguration())
    }

    @Test("memory body arrives intact with its SHA-256 and length", arguments: ["/bytes/", "/nolength/"])
    func memoryBody(route: String) async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let response = try await transport.perform(HTTPRequest(url: server.url("\(route)70000")), into: .memory(limit: 1 << 20))
            let expected = FixtureHTTPServer.pattern(70000)
            #expect(response.status == 200)
            #expect(response.body == expected)
            #expect(response.bodyLength == 70000)
            #expect(response.bodySHA256 == (try Subprocess.sha256(of: expected, in: folder)))
        }
    }

    @Test("a body over the memory limit is bodyTooLarge, with or without Content-Length", arguments: ["/bytes/", "/nolength/"])
    func memoryCap(route: String) async throws {
        try await FixtureHTTPServer.with { server in
            let error = await #expect(throws: TransportError.self) {
                try await transport.perform(HTTPRequest(url: server.url("\(route)50000")), into: .memory(limit: 1000))
            }
            #expect(error?.kind == .bodyTooLarge)
            #expect(error?.detail.contains("1000 bytes") == true)
            #expect(error?.url == server.url("\(route)50000"))
        }
    }

    @Test("file destination holds the served bytes; its hash matches sha256sum of the source")
    func fileDestination() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let source = try server.addFile("blob.bin", Data((0..<300_000).map { _ in UInt8.random(in: 0...255) }))
            let response = try await transport.perform(HTTPRequest(url: server.url("/files/blob.bin")), into: .file(path: folder.path("blob.bin")))
            let sourceHash = try Subprocess.sha256(ofFile: source)
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
            #expect(response.bodyLength == 300_000)
            #expect(response.bodySHA256 == sourceHash)
            #expect(try Subprocess.sha256(ofFile: folder.path("blob.bin")) == sourceHash)
        }
    }

    @Test("a range request appends the rest of a partial file")
    func rangeResume() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let content = Data((0..<250_000).map { _ in UInt8.random(in: 0...255) })
            let source = try server.addFile("layer.bin", content)
            let partial = folder.path("layer.bin")
            try content.prefix(100_000).write(to: URL(fileURLWithPath: partial))

            let request = HTTPRequest(url: server.url("/files/layer.bin"), rangeStart: 100_000)
            let response = try await transport.perform(request, into: .file(path: partial))
            #expect(response.status == 206)
            #expect(response.headers["content-range"] == "bytes 100000-249999/250000")
            #expect(response.bodyLength == 150_000)
            #expect(response.bodySHA256 == (try Subprocess.sha256(of: content.suffix(150_000), in: folder)))
            #expect(try Subprocess.sha256(ofFile: partial) == (try Subprocess.sha256(ofFile: source)))
        }
    }

    @Test("a 200 answer replaces what the file held (a server that ignores Range)")
    func fullBodyReplacesPartial() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let content = Data((0..<120_000).map { _ in UInt8.random(in: 0...255) })
            let source = try server.addFile("whole.bin", content)
            let partial = folder.path("whole.bin")
            try Data(repeating: 0x41, count: 50_000).write(to: URL(fileURLWithPath: partial))
            // No rangeStart: the server answers 200 with the whole body.
            let response = try await transport.perform(HTTPRequest(url: server.url("/files/whole.bin")), into: .file(path: partial))
            #expect(response.status == 200)
            #expect(try Subprocess.sha256(ofFile: partial) == (try Subprocess.sha256(ofFile: source)))
        }
    }

    @Test("a non-2xx body is kept in memory (64 KiB at most) and never written to the file")
    func errorBodyNotWritten() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let path = folder.path("never.bin")
            // "status 404 body\n" is 16 bytes; 8000 repeats = 128000 bytes.
            let response = try await transport.perform(HTTPRequest(url: server.url("/status/404?8000")), into: .file(path: path))
            #expect(response.status == 404)
            #expect(response.bodyLength == 128_000)
            #expect(response.body.count == 64 * 1024)
            #expect(response.body.prefix(16) == Data("status 404 body\n".utf8))
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("a 2xx response with an empty body still creates the file")
    func emptyBodyCreatesFile() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let path = folder.path("empty.bin")
            let response = try await transport.perform(HTTPRequest(url: server.url("/bytes/0")), into: .file(path: path))
            #expect(response.status == 200)
            #expect(response.bodyLength == 0)
            #expect(response.bodySHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            #expect(FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("an unwritable file destination is an io error naming the path")
    func unwritableFile() async throws {
        try await FixtureHTTPServer.with { server in
            let path = "/nonexistent-dir-\(UUID().uuidString)/out.bin"
            let error = await #expect(throws: TransportError.self) {
                try await transport.perform(HTTPRequest(url: server.url("/bytes/100")), into: .file(path: path))
            }
            #expect(error?.kind == .io)
            #expect(error?.detail.contains(path) == true)
        }
    }

    @Test("discard hashes and counts, keeps nothing for 2xx")
    func discard() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let response = try await transport.perform(HTTPRequest(url: server.url("/bytes/5000")), into: .discard)
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
            #expect(response.bodyLength == 5000)
            #expect(response.bodySHA256 == (try Subprocess.sha256(of: FixtureHTTPServer.pattern(5000), in: folder)))
        }
    }

    @Test("parallel transfers beyond the lane count all complete correctly")
    func parallelTransfers() async throws {
        let narrow = try CurlTransport(configuration: TransportConfiguration(maxParallelTransfers: 2))
        try await FixtureHTTPServer.with { server in
            let sizes = (1...10).map { $0 * 7919 }
            let lengths = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for size in sizes {
                    group.addTask {
                        let response = try await narrow.perform(HTTPRequest(url: server.url("/bytes/\(size)")), into: .memory(limit: 1 << 20))
                        return (size, response.body == FixtureHTTPServer.pattern(size))
                    }
                }
                var results: [Int: Bool] = [:]
                for try await (size, intact) in group { results[size] = intact }
                return results
            }
            #expect(lengths.count == sizes.count)
            #expect(lengths.values.allSatisfy { $0 })
        }
    }

    @Test(
        "a large body is read in big steps yet arrives whole, and a short answer after it on the same connection is not held back",
        arguments: ["http", "https", "socks5h"])
    func largeBodyThenShortAnswer(route: String) async throws {
        let ca = route == "https" ? try LocalCA() : nil
        defer { ca?.remove() }
        // microsocks relays in 1 KiB pieces: the case the low-water mark is for.
        let proxy = route == "socks5h" ? try LocalProxy(.microsocks) : nil
        defer { proxy?.stop() }
        try await FixtureHTTPServer.with(certificate: ca?.chain, key: ca?.leafKey) { server in
            // Any wait for bytes that never come (a low-water mark past the body's end, or one left
            // on the connection) stalls the transfer: 5 s without a byte is an error here.
            let transport = try CurlTransport(configuration: TransportConfiguration(
                proxy: proxy?.url, extraCACertificatesPath: ca?.caCertificate, lowSpeedLimit: 1, lowSpeedTime: 5, maxParallelTransfers: 1))
            let size = 3_000_017
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let large = try await transport.perform(HTTPRequest(url: server.url("/bytes/\(size)")), into: .discard)
            #expect(large.status == 200)
            #expect(large.bodyLength == Int64(size))
            #expect(large.bodySHA256 == (try Subprocess.sha256(of: FixtureHTTPServer.pattern(size), in: folder)))
            let port = proxy?.port ?? server.port
            let connections = try Self.socketsOfThisProcess(toPort: port)
            let short = try await transport.perform(HTTPRequest(url: server.url("/bytes/10")), into: .memory(limit: 100))
            #expect(short.body == FixtureHTTPServer.pattern(10))
            #expect(try Self.socketsOfThisProcess(toPort: port) == connections, "the same kept connection answered")
            #expect(connections.count == 1)
        }
    }

    @Test("a large body waits for big steps while it comes fast, and byte by byte once its route slows down")
    func lowWaterMarkRisesAndFalls() async throws {
        try await FixtureHTTPServer.with { server in
            // 600 KB at once, then 144 KiB at 24 KiB/s (6 s). Once the pace is known the mark is
            // up (128 KiB); when the body slows down its bytes wait unread below it, until the
            // progress callback (at least once a second) sees no bytes for 250 ms and drops it to
            // 1, about a second later. Left up, it would hold them until it fills, 3.5 s or more.
            // Watched from the transfer's own thread (a tap), so a busy test run cannot skew it.
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let tap = MarkRecorder(port: server.port)
            let transport = try CurlTransport(configuration: TransportConfiguration(lowSpeedLimit: 1024, lowSpeedTime: 5, maxParallelTransfers: 1))
            let response = try await transport.perform(
                HTTPRequest(url: server.url("/fast-then-slow/600000/147456/24576")), into: .file(path: folder.path("body"), tap: BodyTapHandle(tap)))
            #expect(response.bodyLength == 747_456)
            let seen = tap.samples
            #expect(seen.map(\.mark).max() ?? 0 > 1, "the mark was never raised")
            let longestWait = zip(seen, seen.dropFirst()).map { $1.seconds - $0.seconds }.max() ?? 0
            #expect(longestWait < 2.0, "bytes waited \(longestWait) s below the mark while the route crawled")
        }
    }

    /// A tap that notes, at each piece of body, the time, the bytes so far and the socket's mark.
    final class MarkRecorder: BodyTap, @unchecked Sendable {
        struct Sample { var seconds: Double; var total: Int; var mark: Int32 }
        private let lock = NSLock()
        private var recorded: [Sample] = []
        private var total = 0
        private let port: Int

        init(port: Int) { self.port = port }

        var samples: [Sample] {
            lock.lock()
            defer { lock.unlock() }
            return recorded
        }

        func begin(appending: Bool) {}
        func end() {}

        func receive(_ bytes: UnsafeRawBufferPointer) {
            total += bytes.count
            var mark: Int32 = 0
            if let socket = try? CurlTransportBodyTests.socketsOfThisProcess(toPort: port).first {
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(socket.descriptor, SOL_SOCKET, SO_RCVLOWAT, &mark, &length)
            }
            let sample = Sample(seconds: Double(DispatchTime.now().uptimeNanoseconds) / 1e9, total: total, mark: mark)
            lock.lock()
            recorded.append(sample)
            lock.unlock()
        }
    }

    @Test("a chunked body beside a larger Content-Length is framed by its chunks, not waited on")
    func chunkedBodyWithContentLength() async throws {
        try await FixtureHTTPServer.with { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(lowSpeedLimit: 1, lowSpeedTime: 5, maxParallelTransfers: 1))
            let response = try await transport.perform(HTTPRequest(url: server.url("/chunked-with-length/600000")), into: .memory(limit: 1 << 20))
            #expect(response.body == FixtureHTTPServer.pattern(600_000))
        }
    }

    @Test("every connection libcurl opens is closed again")
    func connectionsAreClosed() async throws {
        try await FixtureHTTPServer.with { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(maxParallelTransfers: 1))
            var most = 0
            for _ in 0..<20 {
                // The server closes each connection after the body: a new one per request.
                let response = try await transport.perform(HTTPRequest(url: server.url("/nolength/3000")), into: .memory(limit: 65536))
                #expect(response.body == FixtureHTTPServer.pattern(3000))
                most = max(most, try Self.socketsOfThisProcess(toPort: server.port).count)
            }
            // libcurl closes them through our callback, which tracks the handle's connections.
            #expect(most <= 1, "connections pile up: \(most) open to the server")
        }
    }

    /// This process's TCP sockets connected to 127.0.0.1:`port` (any state), from /proc.
    static func socketsOfThisProcess(toPort port: Int) throws -> Set<OpenSocket> {
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")
        var byInode: [String: Int32] = [:]
        for entry in descriptors {
            guard let descriptor = Int32(entry),
                  let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                  link.hasPrefix("socket:[") else { continue }
            byInode[String(link.dropFirst("socket:[".count).dropLast())] = descriptor
        }
        // Read to the end: a single read of a /proc file may stop at one page.
        guard let file = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return [] }
        defer { try? file.close() }
        let table = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
        let remote = String(format: "0100007F:%04X", port)
        return Set(table.split(separator: "\n").dropFirst().compactMap { line -> OpenSocket? in
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[2] == remote, let descriptor = byInode[String(fields[9])] else { return nil }
            return OpenSocket(descriptor: descriptor, inode: String(fields[9]))
        })
    }

    struct OpenSocket: Hashable {
        var descriptor: Int32
        var inode: String
    }
}
