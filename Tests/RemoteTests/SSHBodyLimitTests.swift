import Foundation
@testable import Remote
import Testing
import TestSupport
import Transport

/// `HTTPRequest.maximumBodyLength` on both SSH vantage kinds, against a real sshd whose remote
/// curl (or `3tofu agent`) fetches from a server that answers a 23,456-byte file with 256 MiB
/// more: the exchange fails as `bodyTooLarge`, no byte past the maximum reaches the file, and
/// the server sees its client go away long before the padding is all sent.
@Suite("SSH vantages hold bodies to the size asked for", .serialized)
struct SSHBodyLimitTests {
    static let size = 23_456
    static let padding = 256 << 20
    /// Socket, SSH channel and pipe buffers on the way; an unbounded route takes all 256 MiB.
    static let sentBound = 48 << 20

    enum Agent: String, CaseIterable, Sendable { case curl, threeTofu }

    struct Setup {
        let server: SSHServer
        let proxy: FaultProxy
        let folder: TemporaryDirectory
        let transport: any HTTPTransport
        var url: String { "\(proxy.baseURL)/blob.bin" }
    }

    static func setUp(_ agent: Agent, announce: Bool) async throws -> Setup {
        let folder = try TemporaryDirectory(prefix: "ssh-limit")
        try Data(repeating: 0x5a, count: size).write(to: URL(fileURLWithPath: folder.file("blob.bin")))
        let proxy = try await FaultProxy(upstream: nil, serveFiles: folder.path)
        try proxy.inject([FaultProxy.Fault(path: "/blob.bin", times: nil, .padBody(extra: padding, announce: announce))])
        let path = agent == .threeTofu ? "\(try SSHAgentTransportTests.executableDirectory()):/usr/bin:/bin" : "/usr/bin:/bin"
        let server = try await SSHServer(environment: ["PATH": path])
        return Setup(server: server, proxy: proxy, folder: folder, transport: transport(agent, server))
    }

    /// The transport of `agent` to `server`, with short timeouts.
    static func transport(_ agent: Agent, _ server: SSHServer) -> any HTTPTransport {
        let target = SSHTarget(
            host: server.host, port: server.port, user: server.user, identity: server.userKeyPath,
            knownHosts: server.knownHostsPath, connectTimeout: 5, idleTimeout: 20)
        return agent == .curl
            ? SSHCurlTransport(connection: SSHConnection(target: target))
            : SSHAgentTransport(connection: SSHConnection(target: target), connectTimeout: 5)
    }

    /// What the server sent for the padded response, once it is done (the client went away).
    static func sent(_ proxy: FaultProxy) async throws -> Int {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            if let first = proxy.bytesSent().first { return first.bytes }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FixtureError("the padded response never ended")
    }

    @Test(arguments: Agent.allCases, [false, true])
    func aFileDownloadStopsAtTheMaximum(agent: Agent, announce: Bool) async throws {
        let setup = try await Self.setUp(agent, announce: announce)
        defer { setup.proxy.stop() }
        let path = setup.folder.file("download.part")
        let error = await #expect(throws: TransportError.self) {
            _ = try await setup.transport.perform(HTTPRequest(url: setup.url, maximumBodyLength: Int64(Self.size)), into: .file(path: path))
        }
        #expect(error?.kind == .bodyTooLarge, "\(String(describing: error))")
        #expect(error?.detail.contains("\(Self.size) bytes expected") == true, "\(String(describing: error))")
        let written = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        #expect(written <= Self.size)
        let sent = try await Self.sent(setup.proxy)
        #expect(sent < Self.sentBound, "the server sent \(sent) bytes before the vantage stopped")
    }

    /// `.discard` is hashed on the remote: the remote stops too (the curl script's `head -c`, the agent's own limit).
    @Test(arguments: Agent.allCases)
    func aRemoteHashStopsAtTheMaximum(agent: Agent) async throws {
        let setup = try await Self.setUp(agent, announce: false)
        defer { setup.proxy.stop() }
        let error = await #expect(throws: TransportError.self) {
            _ = try await setup.transport.perform(HTTPRequest(url: setup.url, maximumBodyLength: Int64(Self.size)), into: .discard)
        }
        #expect(error?.kind == .bodyTooLarge, "\(String(describing: error))")
        let sent = try await Self.sent(setup.proxy)
        #expect(sent < Self.sentBound, "the server sent \(sent) bytes before the remote stopped")
        // Without padding the same request is fine: the limit is not off by one.
        try setup.proxy.inject([])
        let response = try await setup.transport.perform(HTTPRequest(url: setup.url, maximumBodyLength: Int64(Self.size)), into: .discard)
        #expect(response.status == 200 && response.bodyLength == Int64(Self.size))
    }

    /// A remote that keeps talking (here: output that does not end) still stops when the task is
    /// cancelled, before any more of its output is taken; before, cancellation was looked at only
    /// while the remote was silent, so a remote that never fell silent held the run.
    @Test func cancellationStopsARemoteThatNeverFallsSilent() async throws {
        let server = try await SSHServer()
        let target = SSHTarget(
            host: server.host, port: server.port, user: server.user, identity: server.userKeyPath,
            knownHosts: server.knownHostsPath, connectTimeout: 5, idleTimeout: 20)
        let connection = SSHConnection(target: target)
        let (outcome, afterCancel) = try await connection.withSession { session, cancellation -> (String, Int) in
            var count = 0
            var afterCancel = 0
            do {
                _ = try session.exec("head -c 400000000 /dev/zero", stdin: Data(), cancellation: cancellation) { bytes in
                    if cancellation.isCancelled { afterCancel += 1 }
                    count += bytes.count
                    if count >= 1 << 20 { cancellation.cancel() }
                }
                return ("ran to its end (\(count) bytes)", afterCancel)
            } catch is CancellationError {
                return ("cancelled", afterCancel)
            }
        }
        #expect(outcome == "cancelled")
        #expect(afterCancel == 0, "\(afterCancel) more pieces of output were taken after the cancellation")
    }
}
