import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Report
import Testing
import TestSupport

/// `kind = "ssh"` vantages end to end: the 3tofu CLI reaches a real sshd on loopback and curl on
/// the "remote" host does that vantage's fetching.
@Suite("SSH vantages", .serialized)
struct SSHVantageTests {
    static let repository = "ssh/app"

    /// `port`: where the vantage connects when not to sshd itself (a relay in front of it).
    static func sshVantage(_ name: String, _ server: SSHServer, knownHosts: String? = nil, identity: String? = nil, port: Int? = nil, agent: String = "curl") -> String {
        """
        [[vantage]]
        name = "\(name)"
        kind = "ssh"
        host = "\(server.host)"
        port = \(port ?? server.port)
        user = "\(server.user)"
        identity = "\(identity ?? server.userKeyPath)"
        known_hosts = "\(knownHosts ?? server.knownHostsPath)"
        agent = "\(agent)"

        """
    }

    /// A policy file in the lab's home under which every vantage hashes every layer.
    static func everyVantagePolicy(_ lab: Lab, minAgreeing: Int, maxUnavailable: Int, requireSSH: Bool) throws -> String {
        let policy = lab.home.file("every.toml")
        try """
            name = "every-vantage-test"
            description = "Every vantage hashes every layer."
            min_agreeing = \(minAgreeing)
            max_unavailable = \(maxUnavailable)
            blob_verification = "every-vantage"
            require_route_kinds = \(requireSSH ? "[\"ssh\"]" : "[]")
            allow_insecure_registries = true

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        return policy
    }

    /// A directory with a `curl` that runs `body` (POSIX sh) before the real curl; for `SetEnv PATH`.
    static func curlWrapper(in directory: String, body: String) throws -> String {
        let bin = directory + "/wrapped-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let path = bin + "/curl"
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return bin
    }

    @Test func pullThroughLocalProxyAndSSHAgrees() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        let image = try lab.makeImage(layers: [60_000, 9_000], seed: 11)
        _ = try lab.push(image, Self.repository, tag: "1")
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath]
                + lab.registryOptions())

        #expect(result.status == 0, "\(result.stderr)")
        let inspect = try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains(image.images[0].layers[0].diffID), "\(inspect.stdout)")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        let ssh = try #require(report.vantages.first { $0.name == "vps" })
        #expect(ssh.kind == "ssh")
        #expect(ssh.route == "ssh://\(server.user)@127.0.0.1:\(server.port)")
        #expect(ssh.status == .ok)
        #expect(ssh.observed?.image?.topDigest == image.topDigest)
        #expect(ssh.evidence?.sshHostKey == server.hostKeyFingerprint)
        #expect(report.vantages.filter { $0.kind != "ssh" }.allSatisfy { $0.evidence?.sshHostKey == nil })
        try ReportSchema.validate(reportPath: reportPath)
        #expect(server.log().contains("Accepted publickey"))
    }

    /// The remote login shell (bash) reads `~/.bashrc` each time sshd starts a command; here (HOME
    /// is a test directory) it notes each start and sleeps 0.2 s, as a slow `.bashrc` (pyenv, nvm) does. A pull whose SSH
    /// vantage makes many exchanges (every-vantage: the manifest, the config and every layer)
    /// starts that shell once per exchange running at once, not once per exchange: a few
    /// long-lived remote processes (at most 4, those of the exchanges that ran side by side)
    /// serve them all.
    @Test(arguments: ["curl", "3tofu"])
    func aPullStartsTheRemoteShellOnceForAllItsExchanges(agent: String) async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [40_000, 30_000, 20_000, 10_000], seed: 17)
        _ = try lab.push(image, Self.repository, tag: "rc")
        let shell = String(cString: getpwuid(getuid()).pointee.pw_shell)
        try #require(shell.hasSuffix("/bash"), "the test counts start-ups of the login shell by its ~/.bashrc; \(shell) is not bash")
        let scratch = try TemporaryDirectory(prefix: "remote-rc")
        let starts = scratch.file("shell-starts")
        let exchanges = scratch.file("curl-runs")
        try "echo started >> \(starts)\nsleep 0.2\n".write(toFile: scratch.file(".bashrc"), atomically: true, encoding: .utf8)
        let bin = try Self.curlWrapper(in: scratch.path, body: "echo run >> \(exchanges)\nexec /usr/bin/curl \"$@\"")
        let agentDirectory = URL(fileURLWithPath: try ThreeTofuCLI.executable).deletingLastPathComponent().path
        let path = agent == "curl" ? "\(bin):/usr/bin:/bin" : "\(agentDirectory):/usr/bin:/bin"
        let server = try await SSHServer(environment: ["PATH": path, "HOME": scratch.path])
        defer { server.killEverything() }
        let policy = try Self.everyVantagePolicy(lab, minAgreeing: 3, maxUnavailable: 0, requireSSH: true)
        let vantage = Self.sshVantage("vps", server).replacingOccurrences(of: "agent = \"curl\"", with: "agent = \"\(agent)\"")
        let vantages = try lab.vantagesFile(extra: vantage, only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let began = ContinuousClock.now
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):rc", "--output", output, "--vantages", vantages, "--policy", policy]
                + lab.registryOptions())
        let elapsed = ContinuousClock.now - began
        #expect(result.status == 0, "\(result.stderr)")
        let started = ((try? String(contentsOfFile: starts, encoding: .utf8)) ?? "").split(separator: "\n").count
        #expect((1...4).contains(started), "the remote shell started \(started) times")
        if agent == "curl" {
            // The exchanges were many: the manifest, the config and four layers at least.
            let runs = ((try? String(contentsOfFile: exchanges, encoding: .utf8)) ?? "").split(separator: "\n").count
            #expect(runs >= 6, "the remote curl ran \(runs) times")
        }
        print("ssh-rc-timing agent=\(agent) elapsed=\(elapsed) shell-starts=\(started)")
    }

    @Test func everyVantageHashesLayersOnTheRemoteHost() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        let image = try lab.makeImage(layers: [300_000, 20_000], seed: 12)
        _ = try lab.push(image, Self.repository, tag: "2")
        let policy = lab.home.file("every.toml")
        try """
            name = "every-vantage-test"
            description = "Three vantages, every one hashes every layer."
            min_agreeing = 3
            max_unavailable = 0
            blob_verification = "every-vantage"
            require_route_kinds = ["ssh"]
            allow_insecure_registries = true

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):2", "--output", output, "--vantages", vantages, "--policy", policy]
                + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: output))
    }

    @Test func aChangedHostKeyIsRefusedAndNothingIsWritten() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        let image = try lab.makeImage(layers: [20_000], seed: 13)
        _ = try lab.push(image, Self.repository, tag: "1")
        let vantages = try lab.vantagesFile(
            extra: Self.sshVantage("vps", server, knownHosts: try server.knownHostsWithAnotherKey()), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages] + lab.registryOptions())

        #expect(result.status == 3, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        #expect(result.stderr.contains(server.hostKeyFingerprint), "\(result.stderr)")
        #expect(result.stderr.contains("ssh-keyscan -p \(server.port) 127.0.0.1"), "\(result.stderr)")
        // Refused at the handshake: no credential was offered, no command ran.
        #expect(!server.log().contains("Accepted publickey"), "\(server.log())")
    }

    @Test func aKeyTheHostDoesNotAcceptIsAClearAuthenticationError() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        let image = try lab.makeImage(layers: [20_000], seed: 14)
        _ = try lab.push(image, Self.repository, tag: "1")
        let stranger = server.directory.file("stranger")
        try SSHServer.makeKey(at: stranger)
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server, identity: stranger), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages] + lab.registryOptions())
        #expect(result.status == 3, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(result.stderr.contains("SSH authentication as \(server.user)"), "\(result.stderr)")
        #expect(result.stderr.contains(stranger), "\(result.stderr)")
    }

    /// The SSH host's own network path is hostile: its curl goes through an attacker (mitmproxy)
    /// that serves another index for the tag. The SSH vantage dissents: exit 1, nothing written.
    @Test func theSSHHostsNetworkPathSeesAnotherManifest() async throws {
        let lab = try await Lab()
        let good = try lab.makeImage(layers: [30_000], seed: 15)
        let evil = try lab.makeImage(layers: [30_000], seed: 615)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        let mitm = try await MitmProxy(attack: .init(.swapManifest, replacementTag: "evil", targetTag: "1", registry: lab.registry.host))
        defer { mitm.stop() }
        // The remote network routes through the attacker: a curl wrapper on the remote user's PATH.
        let scratch = try TemporaryDirectory(prefix: "remote-path")
        let bin = try Self.curlWrapper(in: scratch.path, body: "exec /usr/bin/curl \"$@\" --proxy \(mitm.url) --noproxy \"\"")
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin"])
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps-abroad", server), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath]
                + lab.registryOptions())

        #expect(result.status == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(result.stderr.contains("vps-abroad"), "\(result.stderr)")
        #expect(mitm.rewrites().contains { $0.contains("/v2/\(Self.repository)/manifests/1") }, "\(mitm.rewrites())")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        #expect(report.vantages.first { $0.name == "vps-abroad" }?.observed?.image?.topDigest == evil.topDigest)
    }

    /// The SSH connection dies while the SSH vantage hashes a layer (every-vantage): that vantage
    /// fails cleanly, and the policy decides — strict refuses (3, insufficient), a policy allowing
    /// one unavailable vantage goes on (0, agree) without it.
    ///
    /// The drop comes at a point the test controls: the remote `curl` of a layer download (hash
    /// mode, `-o -`) says it started and then waits on a FIFO that nobody writes, so no hash can
    /// come back; only then does the test kill sshd, its listener and every session (a reconnect
    /// is refused too).
    @Test(arguments: [(0, Int32(3), "insufficient"), (1, Int32(0), "agree")])
    func theSSHConnectionDyingMidPullIsDecidedByThePolicy(maxUnavailable: Int, expected: Int32, verdict: String) async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [200_000, 10_000], seed: 16)
        _ = try lab.push(image, Self.repository, tag: "1")
        let scratch = try TemporaryDirectory(prefix: "remote-path")
        let started = scratch.file("layer-download-started")
        let hold = scratch.file("hold")
        _ = try Shell.check(["mkfifo", hold])
        let bin = try Self.curlWrapper(in: scratch.path, body: """
            case " $* " in *" -o - "*)
              : > \(started)
              read -r _ < \(hold);;
            esac
            exec /usr/bin/curl "$@"
            """)
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin"])
        defer { server.killEverything() }
        let policy = try Self.everyVantagePolicy(lab, minAgreeing: 2, maxUnavailable: maxUnavailable, requireSSH: false)
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let arguments = ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--policy", policy, "--report", reportPath]
            + (try lab.registryOptions())

        let pull = BackgroundRun { try lab.run(arguments) }
        // Wait for the remote layer download to start (or the run to end without one).
        let deadline = ContinuousClock.now + .seconds(300)
        while !FileManager.default.fileExists(atPath: started), !pull.isFinished, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let dropped = FileManager.default.fileExists(atPath: started)
        server.killEverything()
        let result = try await pull.value()

        #expect(dropped, "the SSH vantage never started a layer download: \(result.stderr)")
        #expect(result.status == expected, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: output) == (expected == 0))
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict.rawValue == verdict, "\(report.reason)")
        let ssh = try #require(report.vantages.first { $0.name == "vps" })
        #expect(ssh.status == .error)
        #expect(ssh.error?.contains("SSH") == true, "\(ssh.error ?? "")")
        #expect(report.vantages.filter { $0.name != "vps" }.allSatisfy { $0.status == .ok }, "\(report.vantages.map { ($0.name, $0.status) })")
    }

    @Test func vantagesCheckCoversSSHHosts() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        let bad = try server.knownHostsWithAnotherKey()
        let vantages = try lab.vantagesFile(
            extra: Self.sshVantage("vps", server) + "\n" + Self.sshVantage("impostor", server, knownHosts: bad), only: [.direct])
        let result = try lab.run(["vantages", "check", "--vantages", vantages, "--registry", lab.registry.host] + lab.registryOptions())
        #expect(result.status != 0, "\(result.stdout)\(result.stderr)")
        let text = result.stdout + result.stderr
        let vpsLine = try #require(text.split(separator: "\n").first { $0.contains("vps") && !$0.contains("impostor") })
        #expect(vpsLine.contains(server.hostKeyFingerprint), "\(text)")
        #expect(vpsLine.contains("sha256sum"), "\(text)")
        let impostorLine = try #require(text.split(separator: "\n").first { $0.contains("impostor") })
        #expect(impostorLine.contains("CHANGED"), "\(text)")
    }

    /// A fetch through an SSH vantage records the host key that vantage checked, as a pull does.
    @Test func aFetchThroughSSHRecordsTheHostKey() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        defer { server.killEverything() }
        let root = lab.home.file("site")
        try FileManager.default.createDirectory(atPath: root + "/files", withIntermediateDirectories: true)
        try Data(repeating: 7, count: 50_000).write(to: URL(fileURLWithPath: root + "/files/tool.tar.gz"))
        let site = try await NginxServer(root: root)
        defer { site.stop() }
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server), only: [.direct, .httpProxy])
        let output = lab.home.file("tool.tar.gz")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(["fetch", site.baseURL + "/files/tool.tar.gz", "--output", output, "--vantages", vantages, "--report", reportPath])

        #expect(result.status == 0, "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        let ssh = try #require(report.vantages.first { $0.name == "vps" })
        #expect(ssh.status == .ok)
        #expect(ssh.evidence?.sshHostKey == server.hostKeyFingerprint, "\(String(describing: ssh.evidence))")
        #expect(report.vantages.first { $0.name == "direct" }?.evidence?.sshHostKey == nil)
        try ReportSchema.validate(reportPath: reportPath)
    }

    /// A bundle keeps one SSH session per vantage for the whole run: every image is resolved and
    /// every layer fetched over it, instead of one session per image and another for the downloads.
    @Test func aBundleUsesOneSSHSessionForAllItsImages() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        defer { server.killEverything() }
        let host = lab.registry.host
        _ = try lab.push(try lab.makeImage(layers: [20_000], seed: 21), "ssh/one", tag: "1")
        _ = try lab.push(try lab.makeImage(layers: [30_000], seed: 22), "ssh/two", tag: "1")
        let imagesFile = lab.home.file("images.txt")
        try "\(host)/ssh/one:1\n\(host)/ssh/two:1\n".write(toFile: imagesFile, atomically: true, encoding: .utf8)
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server), only: [.direct, .httpProxy])
        let output = lab.home.file("bundle.tar")
        let result = try lab.run(["pull", "--images-from", imagesFile, "--output", output, "--vantages", vantages] + lab.registryOptions())

        #expect(result.status == 0, "\(result.stderr)")
        let sessions = server.log().components(separatedBy: "Accepted publickey").count - 1
        #expect(sessions == 1, "one SSH login for two images, not \(sessions):\n\(server.log())")
    }

    /// An identity file that cannot be read is a mistake in the vantages file: exit 2 (not 3),
    /// and the message says which file and what to change.
    @Test func anUnreadableIdentityFileIsBadInput() async throws {
        let lab = try await Lab()
        let server = try await SSHServer()
        defer { server.killEverything() }
        _ = try lab.push(try lab.makeImage(layers: [10_000], seed: 23), Self.repository, tag: "1")
        let missing = server.directory.file("no-such-key")
        let vantages = try lab.vantagesFile(extra: Self.sshVantage("vps", server, identity: missing), includeStandard: false)
        let output = lab.home.file("app.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages] + lab.registryOptions())

        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("fix identity in the vantages file"), "\(result.stderr)")
        #expect(result.stderr.contains(missing), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}

/// Remote hosts that cannot do the fetching: curl missing, or curl failing.
@Suite("SSH vantages: remote faults", .serialized)
struct SSHRemoteFaultTests {
    /// A PATH directory with every program of /usr/bin except `tool`.
    static func pathWithout(_ tool: String, in directory: String) throws -> String {
        let bin = directory + "/no-\(tool)-bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: "/usr/bin") where name != tool {
            try? FileManager.default.createSymbolicLink(atPath: bin + "/" + name, withDestinationPath: "/usr/bin/" + name)
        }
        return bin
    }

    @Test func remoteWithoutCurlIsAClearFailureAndVantagesCheckSaysSo() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [5_000], seed: 21)
        _ = try lab.push(image, SSHVantageTests.repository, tag: "1")
        let scratch = try TemporaryDirectory(prefix: "remote-path")
        let server = try await SSHServer(environment: ["PATH": try Self.pathWithout("curl", in: scratch.path)])
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("vps", server), only: [.direct, .httpProxy])

        let check = try lab.run(["vantages", "check", "--vantages", vantages, "--registry", lab.registry.host] + lab.registryOptions())
        #expect(check.status == 3, "\(check.stdout)\(check.stderr)")
        let vpsLine = try #require(check.stdout.split(separator: "\n").first { $0.contains("vps") })
        #expect(vpsLine.contains("FAILED") && vpsLine.contains("curl"), "\(check.stdout)")

        let output = lab.home.file("o.tar")
        let pull = try lab.run(["pull", "\(lab.registry.host)/\(SSHVantageTests.repository):1", "--output", output, "--vantages", vantages] + lab.registryOptions())
        #expect(pull.status == 3, "\(pull.stderr)")
        #expect(pull.stderr.contains("vps") && pull.stderr.contains("curl"), "\(pull.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// The registry needs a password; the SSH vantage's curl gets it on standard input (`-K -`),
    /// never as an argument. A wrapper around the remote curl records its own arguments and the
    /// process list while each request runs; of that list only this test's own processes are
    /// read: the sshd fixture's tree (its sessions, the remote shell, the wrapper) and the 3tofu
    /// pull with its children (other tests' processes on the machine are not this test's to
    /// judge). No credential in any of them.
    @Test func credentialsNeverReachTheRemoteCommandLineOrTheProcessList() async throws {
        let ca = try TestCA()
        let user = "dave"
        let password = "pr0cess-List-s3cret"
        let lab = try await Lab([.tls(ca), .htpasswd(user: user, password: password)])
        let image = try lab.makeImage(layers: [40_000, 7_000], seed: 23)
        _ = try lab.push(image, SSHVantageTests.repository, tag: "creds")
        let scratch = try TemporaryDirectory(prefix: "argv")
        let seen = scratch.file("seen.txt")
        let bin = try SSHVantageTests.curlWrapper(in: scratch.path, body: """
            { printf 'ARGV:'; printf ' %s' "$@"; printf '\n'; echo PS-BEGIN; ps -eo pid=,ppid=,args=; echo PS-END; } >> \(seen)
            exec /usr/bin/curl "$@"
            """)
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin"])
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("vps", server), only: [.direct, .httpProxy])
        let output = lab.home.file("creds.tar")
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/\(SSHVantageTests.repository):creds", "--output", output, "--vantages", vantages] + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")
        let text = try String(contentsOfFile: seen, encoding: .utf8)
        let argv = text.split(separator: "\n").filter { $0.hasPrefix("ARGV:") }.map(String.init)
        let ours = Self.processesOfThisTest(in: text, sshd: server.daemonPID, marker: output)
        // The wrapper ran for the manifest requests and saw the 3tofu process and the remote shell.
        #expect(argv.count > 1, "\(text.prefix(2000))")
        #expect(ours.contains { $0.contains("3tofu") && $0.contains(" pull ") && $0.contains(output) }, "\(ours.prefix(20))")
        #expect(ours.contains { $0.contains("3tofu-curl/2") }, "the remote shell is in the sshd's tree: \(ours.prefix(20))")
        #expect(argv.allSatisfy { $0.hasPrefix("ARGV: -q -K - ") }, "curl reads its headers from standard input: \(argv)")
        let basic = Data("\(user):\(password)".utf8).base64EncodedString()
        for secret in [password, basic, "Authorization", "authorization", "Basic ", "Bearer "] {
            #expect(!argv.contains { $0.contains(secret) }, "'\(secret)' appeared on the remote curl's command line")
            #expect(!ours.contains { $0.contains(secret) }, "'\(secret)' appeared in the command line of one of this test's processes")
        }
        for stream in [pull.stdout, pull.stderr] {
            #expect(!stream.contains(password) && !stream.contains(basic))
        }
    }

    /// The command lines, from every `ps -eo pid=,ppid=,args=` snapshot in `text`, of the
    /// processes below the sshd listener `sshd` and of any process whose command line holds
    /// `marker` (the 3tofu run) and those below it.
    static func processesOfThisTest(in text: String, sshd: Int32, marker: String) -> [String] {
        var found: [String] = []
        for snapshot in text.components(separatedBy: "PS-BEGIN\n").dropFirst() {
            let listing = snapshot.components(separatedBy: "PS-END").first ?? ""
            var parent: [Int32: Int32] = [:]
            var args: [Int32: String] = [:]
            for line in listing.split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
                guard fields.count >= 2, let pid = Int32(fields[0]), let ppid = Int32(fields[1]) else { continue }
                parent[pid] = ppid
                args[pid] = fields.count > 2 ? String(fields[2]) : ""
            }
            let roots = Set([sshd] + args.filter { $0.value.contains(marker) }.map(\.key))
            func isOurs(_ pid: Int32) -> Bool {
                var current: Int32? = pid
                var steps = 0
                while let pid = current, steps < 64 {
                    if roots.contains(pid) { return true }
                    current = parent[pid]
                    steps += 1
                }
                return false
            }
            found += args.filter { isOurs($0.key) }.map(\.value)
        }
        return found
    }

    @Test func remoteCommandFailingIsAClearFailure() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [5_000], seed: 22)
        _ = try lab.push(image, SSHVantageTests.repository, tag: "1")
        let scratch = try TemporaryDirectory(prefix: "remote-path")
        let bin = try SSHVantageTests.curlWrapper(in: scratch.path, body: "echo 'curl: (6) simulated failure' >&2\nexit 6")
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin"])
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("vps", server), only: [.direct, .httpProxy])
        let output = lab.home.file("o.tar")
        let pull = try lab.run(["pull", "\(lab.registry.host)/\(SSHVantageTests.repository):1", "--output", output, "--vantages", vantages, "--vantage-timeout", "20"] + lab.registryOptions())
        #expect(pull.status == 3, "\(pull.stderr)")
        #expect(pull.stderr.contains("vps"), "\(pull.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
