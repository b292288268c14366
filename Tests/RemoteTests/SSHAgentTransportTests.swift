import Foundation
@testable import Remote
import Testing
import TestSupport
import Transport

/// `agent = "3tofu"` against a real sshd on loopback: the built `3tofu` is on the remote user's
/// PATH, so `3tofu agent` on the "remote" does the fetching.
@Suite("SSH agent transport against a real sshd")
struct SSHAgentTransportTests {
    /// The directory of the built `3tofu` executable (next to the test bundle).
    static func executableDirectory() throws -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [here, here.deletingLastPathComponent()]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("3tofu").path) }) else {
            throw FixtureError("the 3tofu executable was not built; run `swift build --build-tests` (looked in \(candidates.map(\.path)))")
        }
        return found.path
    }

    static func transport(_ server: SSHServer) -> SSHAgentTransport {
        let target = SSHTarget(
            host: server.host, port: server.port, user: server.user, identity: server.userKeyPath,
            knownHosts: server.knownHostsPath, connectTimeout: 5, idleTimeout: 20)
        return SSHAgentTransport(connection: SSHConnection(target: target), connectTimeout: 5)
    }

    @Test func bodiesComeBackToMemoryFileAndAsARemoteHash() async throws {
        let server = try await SSHServer(environment: ["PATH": "\(try Self.executableDirectory()):/usr/bin:/bin"])
        let root = try TemporaryDirectory(prefix: "files")
        var blob = Data(count: 700_000)
        for index in blob.indices { blob[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }
        try blob.write(to: URL(fileURLWithPath: root.file("blob.bin")))
        let files = try await FileServer(root: root.path)
        let transport = Self.transport(server)
        let url = "\(files.baseURL)/blob.bin"
        let expected = try Shell.sha256Hex(blob)

        let probe = try await transport.probe()
        #expect(probe.hostKey.fingerprint == server.hostKeyFingerprint)
        #expect(probe.agentVersion?.isEmpty == false)

        let memory = try await transport.perform(HTTPRequest(url: url, headers: [("Authorization", "Bearer not-on-argv")]), into: .memory(limit: 1 << 20))
        #expect(memory.status == 200)
        #expect(memory.body == blob)
        #expect(memory.bodySHA256 == expected)
        #expect(memory.headers["Content-Length"] == String(blob.count))
        #expect(memory.evidence.remoteIP == "127.0.0.1")
        #expect(memory.evidence.sshHostKey == server.hostKeyFingerprint)

        let path = root.file("download.part")
        try Data("stale".utf8).write(to: URL(fileURLWithPath: path))
        let file = try await transport.perform(HTTPRequest(url: url), into: .file(path: path))
        #expect(file.status == 200)
        #expect(file.body.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == blob)
        #expect(file.bodySHA256 == expected)

        let hashed = try await transport.perform(HTTPRequest(url: url), into: .discard)
        #expect(hashed.bodySHA256 == expected)
        #expect(hashed.bodyLength == Int64(blob.count))
        #expect(hashed.body.isEmpty)

        let missing = try await transport.perform(HTTPRequest(url: "\(files.baseURL)/nope"), into: .file(path: root.file("nope.part")))
        #expect(missing.status == 404)
        #expect(!FileManager.default.fileExists(atPath: root.file("nope.part")))

        await #expect(throws: TransportError.self) {
            _ = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1000))
        }
        do {
            _ = try await transport.perform(HTTPRequest(url: "http://127.0.0.1:1/v2/"), into: .memory(limit: 1000))
            Issue.record("a refused connection on the remote was not an error")
        } catch let error as TransportError {
            #expect(error.kind == .connect, "\(error)")
        }
        // The session survived every failure above.
        let after = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 20))
        #expect(after.bodySHA256 == expected)
        #expect(!server.log().contains("not-on-argv"))
    }

    @Test func aRemoteWithout3tofuSaysSo() async throws {
        let server = try await SSHServer(environment: ["PATH": "/usr/bin:/bin"])
        do {
            _ = try await Self.transport(server).perform(HTTPRequest(url: "http://127.0.0.1:1/v2/"), into: .memory(limit: 1000))
            Issue.record("a remote without 3tofu answered")
        } catch let error as SSHError {
            #expect(error.kind == .remote)
            #expect(error.message.contains("install 3tofu there"), "\(error.message)")
        }
        #expect(try await Self.transport(server).probe().agentVersion == nil)
    }
}
