import Foundation
@testable import Remote
import Testing
import TestSupport
import Transport

/// The SSH vantage transport against a real sshd on loopback, with the remote's own curl
/// fetching from real HTTP(S) servers.
@Suite("SSH curl transport against a real sshd")
struct SSHCurlTransportTests {
    static func target(_ server: SSHServer, identity: String? = nil, knownHosts: String? = nil) -> SSHTarget {
        SSHTarget(
            host: server.host, port: server.port, user: server.user, identity: identity ?? server.userKeyPath,
            knownHosts: knownHosts ?? server.knownHostsPath, connectTimeout: 5, idleTimeout: 20)
    }

    static func transport(_ server: SSHServer, options: RemoteCurlScript.Options = .init(), knownHosts: String? = nil) -> SSHCurlTransport {
        SSHCurlTransport(connection: SSHConnection(target: target(server, knownHosts: knownHosts)), options: options)
    }

    static func sha256(_ data: Data) throws -> String { try Shell.sha256Hex(data) }

    @Test func bodiesComeBackToMemoryFileAndAsARemoteHash() async throws {
        let server = try await SSHServer()
        let root = try TemporaryDirectory(prefix: "files")
        var blob = Data(count: 700_000)
        for index in blob.indices { blob[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }
        try blob.write(to: URL(fileURLWithPath: root.file("blob.bin")))
        let files = try await FileServer(root: root.path)
        let transport = Self.transport(server)
        let url = "\(files.baseURL)/blob.bin"
        let expected = try Self.sha256(blob)

        let memory = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 20))
        #expect(memory.status == 200)
        #expect(memory.body == blob)
        #expect(memory.bodySHA256 == expected)
        #expect(memory.bodyLength == Int64(blob.count))
        #expect(memory.headers["Content-Length"] == String(blob.count))
        #expect(memory.evidence.remoteIP == "127.0.0.1")
        #expect(memory.evidence.effectiveURL == url)
        #expect(memory.evidence.httpVersion == "1.0" || memory.evidence.httpVersion == "1.1")

        let path = root.file("download.part")
        try Data("stale".utf8).write(to: URL(fileURLWithPath: path))
        let file = try await transport.perform(HTTPRequest(url: url), into: .file(path: path))
        #expect(file.status == 200)
        #expect(file.body.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == blob)
        #expect(file.bodySHA256 == expected)

        let hashed = try await transport.perform(HTTPRequest(url: url), into: .discard)
        #expect(hashed.status == 200)
        #expect(hashed.body.isEmpty)
        #expect(hashed.bodySHA256 == expected)
        #expect(hashed.bodyLength == Int64(blob.count))

        let missing = try await transport.perform(HTTPRequest(url: "\(files.baseURL)/nope"), into: .file(path: root.file("nope.part")))
        #expect(missing.status == 404)
        #expect(!FileManager.default.fileExists(atPath: root.file("nope.part")))

        await #expect(throws: TransportError.self) {
            _ = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1000))
        }
        // One session served every request above (and survived the refused oversized body).
        let after = try await transport.perform(HTTPRequest(url: url), into: .memory(limit: 1 << 20))
        #expect(after.bodySHA256 == expected)
        #expect(transport.route == "ssh://\(server.user)@127.0.0.1:\(server.port)")
        #expect(transport.connection.hostKey?.fingerprint == server.hostKeyFingerprint)
    }

    @Test func hashedKnownHostsEntriesAreAccepted() async throws {
        let server = try await SSHServer()
        let hashed = try server.hashedKnownHosts()
        #expect(try String(contentsOfFile: hashed, encoding: .utf8).hasPrefix("|1|"))
        let probe = try await Self.transport(server, knownHosts: hashed).probe()
        #expect(probe.hostKey.fingerprint == server.hostKeyFingerprint)
        #expect(probe.hostKey.algorithm == "ssh-ed25519")
        #expect(probe.curlVersion?.hasPrefix("curl ") == true)
        #expect(probe.hashTool == "sha256sum")
        #expect(probe.missing.isEmpty)
    }

    /// The server also offers an ecdsa key (libssh2's first choice); known_hosts lists only the
    /// ed25519 one, as `ssh` leaves it. The handshake must ask for the key the file knows.
    @Test(arguments: [false, true])
    func theHandshakeAsksForAKeyTypeKnownHostsLists(hashed: Bool) async throws {
        let server = try await SSHServer(hostKeyTypes: ["ed25519", "ecdsa"])
        let knownHosts = hashed ? try server.hashedKnownHosts() : server.knownHostsPath
        let probe = try await Self.transport(server, knownHosts: knownHosts).probe()
        #expect(probe.hostKey.algorithm == "ssh-ed25519")
        #expect(probe.hostKey.fingerprint == server.hostKeyFingerprint)
    }

    @Test func aChangedHostKeyIsRefusedBeforeAuthenticating() async throws {
        let server = try await SSHServer()
        let transport = Self.transport(server, knownHosts: try server.knownHostsWithAnotherKey())
        do {
            _ = try await transport.perform(HTTPRequest(url: "http://127.0.0.1:1/v2/"), into: .memory(limit: 1024))
            Issue.record("a changed host key was accepted")
        } catch let error as SSHError {
            #expect(error.kind == .hostKeyChanged)
            #expect(error.message.contains(server.hostKeyFingerprint), "\(error.message)")
            #expect(error.message.contains("ssh-keyscan -p \(server.port) 127.0.0.1 >> "), "\(error.message)")
        }
        // sshd logs the client's leaving (VERBOSE): once it has, the whole connection is in the
        // log, and authentication never happened in it.
        let closed = try await server.waitForLog { $0.contains("Connection closed by") || $0.contains("Disconnected from") }
        #expect(closed, "sshd never saw the client leave: \(server.log())")
        #expect(!server.log().contains("Accepted publickey"), "\(server.log())")
    }

    @Test func anUnknownHostIsRefusedWithItsFingerprint() async throws {
        let server = try await SSHServer()
        let empty = server.directory.file("known_hosts_empty")
        try Data().write(to: URL(fileURLWithPath: empty))
        for knownHosts in [empty, server.directory.file("does-not-exist")] {
            do {
                _ = try await Self.transport(server, knownHosts: knownHosts).probe()
                Issue.record("an unknown host was accepted")
            } catch let error as SSHError {
                #expect(error.kind == .hostKeyUnknown)
                #expect(error.message.contains(server.hostKeyFingerprint), "\(error.message)")
                #expect(error.message.contains("ssh-keyscan -p \(server.port) 127.0.0.1 >> \(knownHosts)"), "\(error.message)")
            }
        }
    }

    @Test func aKeyTheServerDoesNotKnowIsAClearAuthenticationError() async throws {
        let server = try await SSHServer()
        let stranger = server.directory.file("stranger")
        try SSHServer.makeKey(at: stranger)
        let connection = SSHConnection(target: Self.target(server, identity: stranger))
        do {
            _ = try await SSHCurlTransport(connection: connection).probe()
            Issue.record("an unauthorized key was accepted")
        } catch let error as SSHError {
            #expect(error.kind == .authentication)
            #expect(error.message.contains("authentication as \(server.user)"), "\(error.message)")
            #expect(error.message.contains(stranger), "\(error.message)")
        }
        let encrypted = server.directory.file("encrypted")
        try SSHServer.makeKey(at: encrypted, passphrase: "correct horse")
        try FileManager.default.removeItem(atPath: server.directory.file("authorized_keys"))
        try FileManager.default.copyItem(atPath: encrypted + ".pub", toPath: server.directory.file("authorized_keys"))
        var withPassphrase = Self.target(server, identity: encrypted)
        withPassphrase.passphrase = "correct horse"
        let probe = try await SSHCurlTransport(connection: SSHConnection(target: withPassphrase)).probe()
        #expect(probe.hostKey.fingerprint == server.hostKeyFingerprint)
    }

    @Test func shellMetacharactersInRequestsRunNothingOnTheRemote() async throws {
        let server = try await SSHServer()
        let root = try TemporaryDirectory(prefix: "files")
        let files = try await FileServer(root: root.path)
        let marker = root.file("pwned")
        let transport = Self.transport(server)
        let hostile = [
            "$(touch${IFS}\(marker))", "`touch${IFS}\(marker)`", ";touch${IFS}\(marker);", "'$(touch${IFS}\(marker))'",
            "\"$(touch${IFS}\(marker))\"", "\\\";touch${IFS}\(marker);#",
        ]
        for value in hostile {
            let request = HTTPRequest(
                url: "\(files.baseURL)/v2/\(value)/manifests/\(value)",
                headers: [(name: "Authorization", value: "Bearer \(value)"), (name: "X-Note", value: "'; touch \(marker); echo '")])
            let response = try await transport.perform(request, into: .memory(limit: 64 * 1024))
            #expect(response.status == 404)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
        let seen = files.requests().map(\.path)
        #expect(seen.count == hostile.count)
        #expect(seen.contains { $0.contains("$(touch${IFS}") }, "\(seen)")
        #expect(files.requests().allSatisfy { $0.hadAuthorization })
    }

    @Test func tlsThroughTheRemoteUsesTheGivenCAAndReportsTheChain() async throws {
        let ca = try TestCA()
        let registry = try await RegistryServer([.tls(ca)])
        let server = try await SSHServer()
        let url = "https://\(registry.host)/v2/"
        let pem = try Data(contentsOf: URL(fileURLWithPath: ca.caCertPath))
        let trusting = Self.transport(server, options: .init(extraCAPEM: pem))
        let response = try await trusting.perform(HTTPRequest(url: url), into: .memory(limit: 64 * 1024))
        #expect(response.status == 200)
        #expect(response.evidence.certificateSHA256.first == ca.leafSHA256Fingerprint, "\(response.evidence)")

        do {
            _ = try await Self.transport(server).perform(HTTPRequest(url: url), into: .memory(limit: 64 * 1024))
            Issue.record("an unknown CA was trusted by the remote curl")
        } catch let error as TransportError {
            #expect(error.kind == .tls, "\(error)")
        }
    }

    @Test func aDroppedConnectionFailsTheRequestAndTheNextConnectIsRefused() async throws {
        let server = try await SSHServer()
        let root = try TemporaryDirectory(prefix: "files")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: root.file("a")))
        let files = try await FileServer(root: root.path)
        let transport = Self.transport(server)
        let first = try await transport.perform(HTTPRequest(url: "\(files.baseURL)/a"), into: .memory(limit: 100))
        #expect(first.body == Data("hello".utf8))
        server.killEverything()
        do {
            _ = try await transport.perform(HTTPRequest(url: "\(files.baseURL)/a"), into: .memory(limit: 100))
            Issue.record("a request succeeded over a killed SSH connection")
        } catch let error as TransportError {
            #expect(error.kind == .connect, "\(error)")
            #expect(error.detail.contains("SSH"), "\(error)")
        } catch let error as SSHError {
            #expect(error.kind == .connect, "\(error)")
        }
        do {
            _ = try await transport.perform(HTTPRequest(url: "\(files.baseURL)/a"), into: .memory(limit: 100))
            Issue.record("reconnected to a stopped sshd")
        } catch let error as SSHError {
            #expect(error.kind == .connect)
            #expect(error.message.contains("port \(server.port)"), "\(error)")
        }
    }

    @Test func stdoutAndStderrAreDrainedTogetherAndTheExitStatusIsRead() async throws {
        let server = try await SSHServer()
        let connection = SSHConnection(target: Self.target(server))
        let command = "sh -c 'head -c 3000000 /dev/zero >&2; head -c 200000 /dev/zero; echo; echo done; exit 7'"
        let (stdout, result) = try await connection.withSession { session, cancellation -> (Data, SSHSession.ExecResult) in
            var stdout = Data()
            let result = try session.exec(command, stdin: Data(), stderrLimit: 1000, cancellation: cancellation) { stdout.append(contentsOf: $0) }
            return (stdout, result)
        }
        #expect(stdout.count == 200_006)
        #expect(String(decoding: stdout.suffix(5), as: UTF8.self) == "done\n")
        #expect(result.exitStatus == 7)
        #expect(result.stderr.count == 1000)
        #expect(result.stderrTruncated)

        let echoed = try await connection.withSession { session, cancellation -> Data in
            var stdout = Data()
            let input = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0) })
            let result = try session.exec("cat", stdin: input, cancellation: cancellation) { stdout.append(contentsOf: $0) }
            #expect(result.exitStatus == 0)
            return stdout
        }
        #expect(echoed.count == 300_000)
    }
}

/// Host key fingerprints as OpenSSH prints them.
@Suite struct SSHHostKeyDisplayTests {
    @Test func fingerprintMatchesSSHKeygen() throws {
        let directory = try TemporaryDirectory(prefix: "key")
        let path = directory.file("k")
        try SSHServer.makeKey(at: path)
        let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        let blob = try #require(Data(base64Encoded: String(publicKey[1])))
        let printed = try Shell.check(["ssh-keygen", "-l", "-E", "sha256", "-f", path + ".pub"])
        #expect(printed.contains(HostKey.fingerprint(of: blob) + " "))
    }
}
