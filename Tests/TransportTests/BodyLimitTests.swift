import Foundation
import Testing
import Transport

/// `HTTPRequest.maximumBodyLength`: the pure decision (`BodyLimit`), then libcurl held to it
/// against a server whose body does not end.
@Suite("body limits")
struct BodyLimitTests {
    static let url = "http://h/b"

    @Test(arguments: [
        // (maximum, range start, status, bytes allowed or nil for no limit)
        (Int64?.none, Int64?.none, 200, Int64?.none),
        (1000, nil, 200, 1000),
        (1000, nil, 204, 1000),
        (1000, 400, 206, 600),
        (1000, 400, 200, 1000),  // a server that ignores the range sends the whole resource
        (1000, 1200, 206, 0),
        (1000, nil, 404, nil),  // error bodies are capped apart
        (1000, nil, 302, nil),
    ])
    func theLimitOfOneResponse(maximum: Int64?, rangeStart: Int64?, status: Int, allowed: Int64?) {
        let limit = BodyLimit(request: HTTPRequest(url: Self.url, rangeStart: rangeStart, maximumBodyLength: maximum), status: status)
        #expect(limit?.bytes == allowed)
    }

    @Test(arguments: [
        // (received so far, adding, refused) under a limit of 1000
        (Int64(0), 1000, false),
        (0, 1001, true),
        (999, 1, false),
        (1000, 1, true),
        (1000, 0, false),
        (600, 500, true),
    ])
    func bytesPastTheLimitAreRefused(received: Int64, adding: Int, refused: Bool) throws {
        let limit = try #require(BodyLimit(request: HTTPRequest(url: Self.url, maximumBodyLength: 1000), status: 200))
        #expect(limit.refuses(received: received, adding: adding) == refused)
    }

    @Test(arguments: [
        ("1001", nil, true), ("1000", nil, false), (" 5000 ", nil, true), ("5000", "chunked", false), (nil, nil, false), ("x", nil, false),
    ] as [(String?, String?, Bool)])
    func anAnnouncedLengthPastTheLimitIsRefused(contentLength: String?, transferEncoding: String?, refused: Bool) throws {
        let limit = try #require(BodyLimit(request: HTTPRequest(url: Self.url, maximumBodyLength: 1000), status: 200))
        let announced = BodyLimit.announcedLength(contentLength: contentLength, transferEncoding: transferEncoding)
        #expect(announced.map(limit.refuses(announced:)) ?? false == refused)
    }

    @Test func theErrorSaysHowMuchWasExpected() throws {
        let resumed = try #require(BodyLimit(request: HTTPRequest(url: Self.url, rangeStart: 400, maximumBodyLength: 1000), status: 206))
        let error = resumed.error(url: Self.url, via: "socks5h://127.0.0.1:1080")
        #expect(error.kind == .bodyTooLarge)
        #expect(error.detail == "the server (via socks5h://127.0.0.1:1080) sent more than the 600 bytes left after byte 400 of the 1000 expected; stopped there, nothing past them was kept")
        let announced = try #require(BodyLimit(request: HTTPRequest(url: Self.url, maximumBodyLength: 1), status: 200))
        #expect(announced.error(url: Self.url, announced: 1 << 30).detail.contains("announced 1073741824 bytes, more than the 1 bytes expected; refused before reading it"))
    }
}

/// libcurl against /endless (a body that does not end): stopped at the request's maximum on
/// every destination, with no byte past it in the file, and the server sees the client go away
/// long before it would have sent everything (256 MiB).
@Suite("CurlTransport body limits")
struct CurlTransportBodyLimitTests {
    let transport: CurlTransport

    init() throws {
        transport = try CurlTransport(configuration: TransportConfiguration())
    }

    enum Destination: String, CaseIterable, Sendable { case file, discard, memory }

    /// At most this much left the server before the client's close reached it: socket buffers
    /// and libcurl's receive buffer, not the 256 MiB an unbounded client takes.
    static let sentBound = 48.0 * 1024 * 1024

    @Test(arguments: Destination.allCases, [false, true])
    func anEndlessBodyStopsAtTheMaximum(destination: Destination, announced: Bool) async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let path = folder.path("blob.part")
            let target: BodyDestination = switch destination {
            case .file: .file(path: path)
            case .discard: .discard
            case .memory: .memory(limit: 1 << 20)
            }
            let url = server.url("/endless/\(announced ? 1 : 0)")
            let error = await #expect(throws: TransportError.self) {
                _ = try await transport.perform(HTTPRequest(url: url, maximumBodyLength: 23_456), into: target)
            }
            #expect(error?.kind == .bodyTooLarge)
            #expect(error?.url == url)
            // libcurl refuses an announced length past the memory cap itself, before our check.
            let expected = !announced ? "sent more than the 23456 bytes expected"
                : destination == .memory ? "larger than the limit of 1048576 bytes" : "announced 268435456 bytes, more than the 23456 bytes expected"
            #expect(error?.detail.contains(expected) == true, "\(String(describing: error))")
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size <= 23_456)
            let sent = try #require(try await server.endlessBytesSent())
            #expect(sent < Self.sentBound, "the server sent \(Int(sent)) bytes before the client stopped")
        }
    }

    @Test func aResumedDownloadStopsAtTheRemainingSize() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let path = folder.path("blob.part")
            try Data(repeating: 1, count: 40_000).write(to: URL(fileURLWithPath: path))
            let request = HTTPRequest(url: server.url("/endless/0"), rangeStart: 40_000, maximumBodyLength: 100_000)
            let error = await #expect(throws: TransportError.self) {
                _ = try await transport.perform(request, into: .file(path: path))
            }
            #expect(error?.detail.contains("60000 bytes left after byte 40000 of the 100000 expected") == true, "\(String(describing: error))")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size >= 40_000 && size <= 100_000)
        }
    }

    @Test func aBodyOfExactlyTheMaximumAndErrorBodiesPass() async throws {
        try await FixtureHTTPServer.with { server in
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            let exact = try await transport.perform(HTTPRequest(url: server.url("/nolength/5000"), maximumBodyLength: 5000), into: .file(path: folder.path("a")))
            #expect(exact.status == 200 && exact.bodyLength == 5000)
            let resumed = try await transport.perform(
                HTTPRequest(url: server.url("/bytes/5000"), rangeStart: 1000, maximumBodyLength: 5000), into: .discard)
            #expect(resumed.status == 206 && resumed.bodyLength == 4000)
            // A 404's body (128000 bytes) is no blob: not held to the blob's size, kept capped.
            let missing = try await transport.perform(HTTPRequest(url: server.url("/status/404?8000"), maximumBodyLength: 10), into: .file(path: folder.path("b")))
            #expect(missing.status == 404)
        }
    }
}

/// How the libcurl transport fails on what is not a normal exchange, and that it recovers.
@Suite("CurlTransport odd answers")
struct CurlTransportOddAnswerTests {
    /// After a URL libcurl cannot parse (a malformed redirect target), the same lane (one lane
    /// only) serves the next request; before, every later request failed setting BUFFERSIZE.
    @Test func aMalformedURLIsClearAndLeavesTheLaneWorking() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration(maxParallelTransfers: 1))
        try await FixtureHTTPServer.with { server in
            let bad = "http://127.0.0.1%3a\(server.port)/bytes/10"
            let error = await #expect(throws: TransportError.self) {
                _ = try await transport.perform(HTTPRequest(url: bad), into: .memory(limit: 1000))
            }
            #expect(error?.kind == .badURL, "\(String(describing: error))")
            #expect(error?.detail.contains("not a well-formed http(s) URL") == true, "\(String(describing: error))")
            for _ in 0..<2 {
                let response = try await transport.perform(HTTPRequest(url: server.url("/bytes/10")), into: .memory(limit: 1000))
                #expect(response.status == 200 && response.bodyLength == 10)
            }
        }
    }

    /// A 1 MiB header line: the error says the headers are too large and names the URL.
    @Test func aHugeHeaderLineIsNamedAsSuch() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration())
        try await FixtureHTTPServer.with { server in
            let url = server.url("/long-header/1048576")
            let error = await #expect(throws: TransportError.self) {
                _ = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1000))
            }
            #expect(error?.url == url)
            #expect(error?.detail.contains("headers are larger than libcurl accepts") == true, "\(String(describing: error))")
            #expect(error?.detail.contains("message above") == false, "\(String(describing: error))")
        }
    }
}
