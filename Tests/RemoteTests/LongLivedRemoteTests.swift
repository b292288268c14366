import Foundation
@testable import Remote
import Testing
import TestSupport
import Transport
#if canImport(Glibc)
import Glibc
#endif

/// Where one exchange's reply ends in a long-lived remote process's output — no network.
@Suite struct ReplyEndScannerTests {
    static let end = RemoteCurlScript.endLine(nonce: "0123456789abcdef0123456789abcdef")

    static func scan(_ stream: Data, chunk: Int) throws -> (passed: Data, found: Bool) {
        var scanner = ReplyEndScanner(endLine: end)
        var passed = Data()
        var offset = 0
        while offset < stream.count {
            let piece = stream[offset..<min(offset + chunk, stream.count)]
            try piece.withUnsafeBytes { bytes in try scanner.feed(bytes) { passed.append(contentsOf: $0) } }
            offset += chunk
        }
        return (passed, scanner.found)
    }

    /// A body that holds end lines with other nonces, and the start of this one, passes whole at any chunking.
    @Test(arguments: [1, 2, 7, 41, 65_536])
    func theReplyEndsExactlyAtItsOwnEndLine(chunk: Int) throws {
        var body = Data("HTTP/1.1 200 OK\r\n\r\n".utf8)
        body += Data("3tofu-end ffffffffffffffffffffffffffffffff\n".utf8)
        body += Data(Self.end.utf8.dropLast(3))
        body += Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        body += Data("3tofu-end 0123456789abcdef".utf8)
        let scanned = try Self.scan(body + Data(Self.end.utf8), chunk: chunk)
        #expect(scanned.found)
        #expect(scanned.passed == body)
        let unfinished = try Self.scan(body, chunk: chunk)
        #expect(!unfinished.found)
        #expect(unfinished.passed.count <= body.count && body.starts(with: unfinished.passed))
        #expect(unfinished.passed.count >= body.count - Self.end.utf8.count)
    }

    @Test(arguments: [1, 5, 1000])
    func outputAfterTheEndLineIsAnError(chunk: Int) {
        #expect(throws: ReplyEndScanner.Overrun.self) {
            _ = try Self.scan(Data("body".utf8) + Data(Self.end.utf8) + Data("x".utf8), chunk: chunk)
        }
    }

    @Test func noncesAreFreshHex() {
        let nonces = (0..<50).map { _ in RemoteCurlScript.makeNonce() }
        #expect(Set(nonces).count == 50)
        #expect(nonces.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }
}

/// `3tofu agent` answers request after request on one stdin.
@Suite struct AgentRequestLoopTests {
    static func request(_ url: String) throws -> Data {
        try AgentProtocol.line(AgentProtocol.Request(method: "GET", url: url, headers: [], mode: .stream, memoryLimit: 1000, connectTimeout: 5))
    }

    /// Feeds `input` in pieces of `chunk` bytes and collects the replies' heads.
    static func serve(_ input: Data, chunk: Int) async -> (Int32, [AgentProtocol.ReplyHead]) {
        let collected = AgentOutputCollector()
        var offset = 0
        let status = await RemoteAgent.serveAll(read: {
            guard offset < input.count else { return nil }
            defer { offset += chunk }
            return input[offset..<min(offset + chunk, input.count)]
        }) { collected.data.append($0) }
        let heads = collected.data.split(separator: UInt8(ascii: "\n")).compactMap { try? AgentProtocol.decodeReplyHead(Data($0)) }
        return (status, heads)
    }

    @Test(arguments: [3, 100_000])
    func everyRequestGetsItsReplyInOrder(chunk: Int) async throws {
        // Nothing listens on port 1: each reply is a connect error, and the agent goes on.
        let input = try Self.request("http://127.0.0.1:1/a") + Self.request("http://127.0.0.1:1/b") + Self.request("http://127.0.0.1:1/c")
        let (status, heads) = await Self.serve(input, chunk: chunk)
        #expect(status == RemoteAgent.exitReplied)
        #expect(heads.map { $0.error?.kind } == ["connect", "connect", "connect"])
    }

    @Test func anUnreadableRequestIsAnsweredAndEndsTheAgent() async throws {
        let input = try Self.request("http://127.0.0.1:1/a") + Data("{\"protocol\":\"3tofu-agent/1\"}\n".utf8) + Self.request("http://127.0.0.1:1/c")
        let (status, heads) = await Self.serve(input, chunk: 64)
        #expect(status == RemoteAgent.exitBadRequest)
        #expect(heads.map { $0.error?.kind } == ["connect", "badRequest"])
        let (emptyStatus, emptyHeads) = await Self.serve(Data(), chunk: 64)
        #expect(emptyStatus == RemoteAgent.exitBadRequest)
        #expect(emptyHeads.map { $0.error?.kind } == ["badRequest"])
    }
}

/// One long-lived remote process per SSH session, against a real sshd whose login shell (bash)
/// reads a `~/.bashrc` (HOME is a test directory) that appends a line to a file each time sshd
/// starts a command.
@Suite("SSH vantages keep one remote process per session", .serialized)
struct LongLivedRemoteProcessTests {
    typealias Agent = SSHBodyLimitTests.Agent

    struct Setup {
        let server: SSHServer
        let scratch: TemporaryDirectory
        let transport: any HTTPTransport
        let files: FileServer
        /// How many times the remote login shell started.
        func shellStarts() -> Int {
            ((try? String(contentsOfFile: scratch.file("shell-starts"), encoding: .utf8)) ?? "").split(separator: "\n").count
        }
    }

    static func setUp(_ agent: Agent) async throws -> Setup {
        let shell = String(cString: getpwuid(getuid()).pointee.pw_shell)
        guard shell.hasSuffix("/bash") else {
            throw FixtureError("these tests count start-ups of the login shell by its ~/.bashrc; \(shell) is not bash")
        }
        let scratch = try TemporaryDirectory(prefix: "rc")
        try "echo started >> \(scratch.file("shell-starts"))\n".write(toFile: scratch.file(".bashrc"), atomically: true, encoding: .utf8)
        let path = agent == .threeTofu ? "\(try SSHAgentTransportTests.executableDirectory()):/usr/bin:/bin" : "/usr/bin:/bin"
        let server = try await SSHServer(environment: ["PATH": path, "HOME": scratch.path])
        let transport = SSHBodyLimitTests.transport(agent, server)
        var blob = Data(count: 300_000)
        for index in blob.indices { blob[index] = UInt8(truncatingIfNeeded: index &* 13 &+ index >> 8) }
        try blob.write(to: URL(fileURLWithPath: scratch.file("blob.bin")))
        let files = try await FileServer(root: scratch.path)
        return Setup(server: server, scratch: scratch, transport: transport, files: files)
    }

    /// Every kind of exchange, one after another, over one process: bodies to memory and file,
    /// hashed on the remote, an error status, a HEAD, a refused connection, a body too large.
    @Test(arguments: Agent.allCases)
    func manyExchangesStartTheRemoteShellOnce(agent: Agent) async throws {
        let setup = try await Self.setUp(agent)
        defer { setup.server.killEverything() }
        let url = "\(setup.files.baseURL)/blob.bin"
        let expected = try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: setup.scratch.file("blob.bin"))))
        var exchanges = 0
        for round in 0..<3 {
            let memory = try await setup.transport.perform(HTTPRequest(url: url, headers: [("Authorization", "Bearer r\(round)")]), into: .memory(limit: 1 << 20))
            #expect(memory.bodySHA256 == expected && memory.body.count == 300_000)
            let path = setup.scratch.file("download-\(round).part")
            let file = try await setup.transport.perform(HTTPRequest(url: url, rangeStart: 1000), into: .file(path: path))
            #expect(file.status == 206 || file.status == 200)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == (file.status == 206 ? 299_000 : 300_000))
            let hashed = try await setup.transport.perform(HTTPRequest(url: url), into: .discard)
            #expect(hashed.bodySHA256 == expected && hashed.bodyLength == 300_000)
            let missing = try await setup.transport.perform(HTTPRequest(url: "\(setup.files.baseURL)/nope"), into: .memory(limit: 1 << 16))
            #expect(missing.status == 404)
            let head = try await setup.transport.perform(HTTPRequest(method: .head, url: url), into: .memory(limit: 1 << 20))
            #expect(head.status == 200 && head.body.isEmpty)
            await #expect(throws: TransportError.self) {
                _ = try await setup.transport.perform(HTTPRequest(url: "http://127.0.0.1:1/v2/"), into: .memory(limit: 1000))
            }
            exchanges += 6
        }
        #expect(exchanges == 18)
        #expect(setup.shellStarts() == 1, "the remote shell started \(setup.shellStarts()) times for \(exchanges) exchanges")
    }

    /// Exchanges asked for at once (as layer downloads are) all get their own reply, whole, each
    /// from one of the session's processes (at most `SSHSession.maximumProcesses` of them).
    @Test(arguments: Agent.allCases)
    func concurrentExchangesOnOneVantageEachGetTheirReply(agent: Agent) async throws {
        let setup = try await Self.setUp(agent)
        defer { setup.server.killEverything() }
        // Two files of different sizes and contents, so that a reply given to the wrong exchange shows.
        let other = Data((0..<77_777).map { UInt8(truncatingIfNeeded: $0 &* 101) })
        try other.write(to: URL(fileURLWithPath: setup.scratch.file("other.bin")))
        let expected = [
            "blob.bin": (try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: setup.scratch.file("blob.bin")))), Int64(300_000)),
            "other.bin": (try Shell.sha256Hex(other), Int64(other.count)),
        ]
        let transport = setup.transport
        let base = setup.files.baseURL
        let results = try await withThrowingTaskGroup(of: (String, String, Int64).self) { group in
            for index in 0..<12 {
                group.addTask {
                    let name = index % 2 == 0 ? "blob.bin" : "other.bin"
                    let response = try await transport.perform(HTTPRequest(url: "\(base)/\(name)"), into: index % 3 == 0 ? .discard : .memory(limit: 1 << 20))
                    return (name, response.bodySHA256, response.bodyLength)
                }
            }
            return try await group.reduce(into: [(String, String, Int64)]()) { $0.append($1) }
        }
        #expect(results.count == 12)
        for (name, sha256, length) in results {
            #expect(sha256 == expected[name]?.0 && length == expected[name]?.1, "\(name)")
        }
        #expect((1...SSHSession.maximumProcesses).contains(setup.shellStarts()), "\(setup.shellStarts())")
    }

    /// Two exchanges on one SSH vantage run at the same time, each in a remote process of its own
    /// within the one session. The evidence is the remote's: a wrapper around the remote curl
    /// leaves a mark when an exchange's curl starts, and waits (up to 15 s) for the other one's
    /// mark before it lets curl run, then writes what it saw. Run one after the other, the first
    /// would never see the second's mark (the second would see the first's).
    @Test func twoExchangesOnOneVantageOverlapOnTheRemote() async throws {
        let scratch = try TemporaryDirectory(prefix: "overlap")
        let bin = scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        // Mode stream (`-D -`) and mode hash (`-o -`) tell the two exchanges apart.
        try """
            #!/bin/sh
            case " $* " in *" -o - "*) me=hash; other=stream;; *) me=stream; other=hash;; esac
            : > \(scratch.path)/running-$me
            i=0
            while [ ! -e \(scratch.path)/running-$other ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
            if [ -e \(scratch.path)/running-$other ]; then echo "$me saw $other" >> \(scratch.path)/evidence; fi
            exec /usr/bin/curl "$@"

            """.write(toFile: bin + "/curl", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/curl")
        try "echo started >> \(scratch.file("shell-starts"))\n".write(toFile: scratch.file(".bashrc"), atomically: true, encoding: .utf8)
        let blob = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try blob.write(to: URL(fileURLWithPath: scratch.file("blob.bin")))
        let files = try await FileServer(root: scratch.path)
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin", "HOME": scratch.path])
        defer { server.killEverything() }
        let transport = SSHBodyLimitTests.transport(.curl, server)
        let url = "\(files.baseURL)/blob.bin"
        async let streamed = transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 20))
        async let hashed = transport.perform(HTTPRequest(url: url), into: .discard)
        let (memory, discarded) = try await (streamed, hashed)
        let expected = try Shell.sha256Hex(blob)
        #expect(memory.bodySHA256 == expected && memory.body == blob)
        #expect(discarded.bodySHA256 == expected && discarded.bodyLength == Int64(blob.count))
        let evidence = ((try? String(contentsOfFile: scratch.file("evidence"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init).sorted()
        #expect(evidence == ["hash saw stream", "stream saw hash"], "the two exchanges did not run at the same time: \(evidence)")
        let starts = ((try? String(contentsOfFile: scratch.file("shell-starts"), encoding: .utf8)) ?? "").split(separator: "\n").count
        #expect(starts == 2, "one remote process per exchange running at once: \(starts)")
    }

    /// The remote process (and the curl it runs) is killed in the middle of an exchange: that
    /// exchange fails as a one-shot command that died did before, and the next one gets a new process.
    @Test func aRemoteProcessThatDiesMidExchangeFailsItAndIsReplaced() async throws {
        let scratch = try TemporaryDirectory(prefix: "rc")
        let started = scratch.file("held-started")
        let hold = scratch.file("hold")
        _ = try Shell.check(["mkfifo", hold])
        let bin = scratch.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try """
            #!/bin/sh
            case " $* " in *" -o - "*)
              : > \(started)
              read -r _ < \(hold);;
            esac
            exec /usr/bin/curl "$@"

            """.write(toFile: bin + "/curl", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/curl")
        try "echo started >> \(scratch.file("shell-starts"))\n".write(toFile: scratch.file(".bashrc"), atomically: true, encoding: .utf8)
        try Data(repeating: 1, count: 5000).write(to: URL(fileURLWithPath: scratch.file("blob.bin")))
        let files = try await FileServer(root: scratch.path)
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin", "HOME": scratch.path])
        defer { server.killEverything() }
        let transport = SSHBodyLimitTests.transport(.curl, server)
        let url = "\(files.baseURL)/blob.bin"
        #expect(try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 16)).status == 200)
        // A hashed exchange (`-o -`) holds in the wrapper until its process is killed.
        let held = Task { try await transport.perform(HTTPRequest(url: url), into: .discard) }
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: started), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let remote = SSHServer.descendants(of: server.daemonPID).filter { pid in
            let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0, as: UTF8.self) } ?? ""
            return line.contains(RemoteCurlScript.requestVersion) || line.contains(bin + "/curl")
        }
        #expect(!remote.isEmpty)
        for pid in remote { kill(pid, SIGKILL) }
        do {
            _ = try await held.value
            Issue.record("an exchange whose remote process was killed succeeded")
        } catch let error as TransportError {
            #expect(error.kind == .other, "\(error)")
            #expect(error.detail.contains("killed by signal KILL before finishing"), "\(error)")
        }
        let after = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 16))
        #expect(after.status == 200 && after.body.count == 5000)
        let starts = ((try? String(contentsOfFile: scratch.file("shell-starts"), encoding: .utf8)) ?? "").split(separator: "\n").count
        #expect(starts == 2)
    }

    /// The remote process is killed between two exchanges: the next exchange gets a new one.
    @Test(arguments: Agent.allCases)
    func aRemoteProcessThatDiedWhileIdleIsReplaced(agent: Agent) async throws {
        let setup = try await Self.setUp(agent)
        defer { setup.server.killEverything() }
        let url = "\(setup.files.baseURL)/blob.bin"
        let first = try await setup.transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 20))
        #expect(first.status == 200)
        let mark = agent == .curl ? RemoteCurlScript.requestVersion : AgentProtocol.command
        let remote = SSHServer.descendants(of: setup.server.daemonPID).filter { pid in
            let line = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline").map { String(decoding: $0.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self) } ?? ""
            return line.contains(mark) && !line.contains("bash")
        }
        #expect(remote.count == 1, "\(remote)")
        for pid in remote { kill(pid, SIGKILL) }
        let second = try await setup.transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 20))
        #expect(second.status == 200 && second.body.count == 300_000)
        #expect(setup.shellStarts() == 2)
        let third = try await setup.transport.perform(HTTPRequest(url: url), into: .discard)
        #expect(third.bodyLength == 300_000)
        #expect(setup.shellStarts() == 2)
    }
}
