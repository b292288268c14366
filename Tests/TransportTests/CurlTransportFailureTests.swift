import Foundation
import Testing
import Transport

@Suite("CurlTransport failures below HTTP")
struct CurlTransportFailureTests {
    @Test("a closed port is a connect error naming the URL")
    func connectRefused() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration())
        let url = "http://127.0.0.1:\(try LoopbackPort.free())/v2/"
        let error = await #expect(throws: TransportError.self) {
            try await transport.perform(HTTPRequest(url: url), into: .discard)
        }
        #expect(error?.kind == .connect)
        #expect(error?.url == url)
        #expect(error?.description.contains(url) == true)
    }

    @Test("an unresolvable name is a dns error")
    func unresolvable() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration(connectTimeout: 5))
        let error = await #expect(throws: TransportError.self) {
            try await transport.perform(HTTPRequest(url: "http://no-such-host.invalid/"), into: .discard)
        }
        #expect(error?.kind == .dns)
    }

    @Test("a transfer slower than the low-speed limit times out")
    func lowSpeedTimeout() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration(lowSpeedLimit: 100_000, lowSpeedTime: 1))
        try await FixtureHTTPServer.with { server in
            let started = Date().timeIntervalSince1970
            let error = await #expect(throws: TransportError.self) {
                try await transport.perform(HTTPRequest(url: server.url("/slow")), into: .discard)
            }
            #expect(error?.kind == .timeout)
            // /slow would take 15 minutes; the timeout ends it within seconds. Measured by when the
            // server saw the connection close, not by when this test got a thread back (the rest
            // of the suite may keep the test process's two cooperative threads busy).
            let closedAt = try #require(try await server.slowClientClosedAt())
            #expect(closedAt - started < 10, "the server saw the client leave after \(closedAt - started) s")
        }
    }

    @Test("cancelling the task stops a running transfer promptly")
    func cancellation() async throws {
        // No low-speed timeout within the test's life: only the cancel can end the transfer, however
        // late this task gets a thread back on a busy machine to send it.
        let transport = try CurlTransport(configuration: TransportConfiguration(lowSpeedLimit: 1024, lowSpeedTime: 3600))
        try await FixtureHTTPServer.with { server in
            let url = server.url("/slow")
            let task = Task { try await transport.perform(HTTPRequest(url: url), into: .discard) }
            // Cancel once the transfer is under way (the server has the request), however long
            // the test process took to start the task.
            _ = try #require(try await server.slowRequestStartedAt())
            try await Task.sleep(for: .milliseconds(300))
            let cancelledAt = Date().timeIntervalSince1970
            task.cancel()
            let result = await task.result
            // The server would take 15 minutes to finish; a cancelled transfer drops the connection
            // within about a second (libcurl's progress callback). Measured by when the server
            // saw the connection close, not by when this test got a thread back.
            let closedAt = try #require(try await server.slowClientClosedAt())
            #expect(closedAt - cancelledAt < 5, "the server saw the client leave \(closedAt - cancelledAt) s after the cancel")
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test("cancelling a transfer that waits for its first byte closes its connection at once")
    func cancellationWhileNoByteComes() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration(lowSpeedLimit: 1024, lowSpeedTime: 3600))
        try await FixtureHTTPServer.with { server in
            let url = server.url("/silent")
            let task = Task { try await transport.perform(HTTPRequest(url: url), into: .discard) }
            _ = try #require(try await server.silentRequestAt())
            #expect(try Self.clientStates(toPort: server.port).contains("01"), "the request's connection is established")
            task.cancel()
            // The cancel shuts the connection down before it returns (`CurlLane.interrupt`, run by
            // the task's cancellation handler on this thread): it is no longer established now,
            // where libcurl's own look at the cancellation flag, while no byte moves, would come
            // only at its next idle tick (~0.1 s with 7.88) and close it then.
            let states = try Self.clientStates(toPort: server.port)
            #expect(!states.contains("01"), "TCP states of the client's connections right after the cancel: \(states)")
            let result = await task.result
            #expect(throws: CancellationError.self) { try result.get() }
            _ = try #require(try await server.silentClientClosedAt(), "the server saw the client leave")
        }
    }

    /// The TCP states (hex, /proc/net/tcp: 01 established, 04 and 05 closing) of this machine's
    /// IPv4 connections to `port`, from their client side.
    static func clientStates(toPort port: Int) throws -> [String] {
        // Read to its end: a /proc file has no size, and a single read gets its first page only.
        let table = try #require(try FileHandle(forReadingAtPath: "/proc/net/tcp")?.readToEnd())
        return String(decoding: table, as: UTF8.self).split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 3, let remote = fields[2].split(separator: ":").last, Int(remote, radix: 16) == port else { return nil }
            return String(fields[3])
        }
    }

    @Test("only http and https URLs are fetched", arguments: ["ftp://127.0.0.1/x", "file:///etc/passwd", "gopher://127.0.0.1/"])
    func unsupportedScheme(url: String) async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration())
        let error = await #expect(throws: TransportError.self) {
            try await transport.perform(HTTPRequest(url: url), into: .discard)
        }
        #expect(error?.kind == .unsupportedScheme)
    }

    @Test("a header value with a line break is refused and its value is not repeated")
    func headerInjection() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration())
        let request = HTTPRequest(url: "http://127.0.0.1:1/", headers: [(name: "Authorization", value: "Bearer s3cret\r\nX-Evil: 1")])
        let error = await #expect(throws: TransportError.self) {
            try await transport.perform(request, into: .discard)
        }
        #expect(error?.detail.contains("Authorization") == true)
        #expect(error?.description.contains("s3cret") == false)
    }

    @Test("credentials in the URL do not appear in errors")
    func urlCredentialsRedacted() async throws {
        let transport = try CurlTransport(configuration: TransportConfiguration())
        let port = try LoopbackPort.free()
        let error = await #expect(throws: TransportError.self) {
            try await transport.perform(HTTPRequest(url: "http://user:hunter2@127.0.0.1:\(port)/"), into: .discard)
        }
        #expect(error?.url == "http://127.0.0.1:\(port)/")
        #expect(error?.description.contains("hunter2") == false)
    }
}
