import Foundation
import Report
import Testing
import TestSupport

/// What a user is told when something is wrong: each message says what happened, where, and what
/// to do, against real servers (docker-registry, tinyproxy, microsocks, sshd) on loopback.
@Suite("messages", .serialized)
struct MessageTests {
    static let repository = "msg/app"

    // MARK: routes

    @Test func aPlainHTTPRegistryWithoutInsecureRegistryIsNamedAsPlainHTTP() async throws {
        let lab = try await Lab()
        _ = try lab.push(try lab.makeImage(layers: [2_000], seed: 31), Self.repository, tag: "1")
        let vantages = try lab.vantagesFile()
        let result = try lab.run(["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", vantages])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("speaks plain HTTP, not HTTPS"), "\(result.stderr)")
        #expect(result.stderr.contains("pass --insecure-registry \(lab.registry.host)"), "\(result.stderr)")
        #expect(!result.stderr.contains("may be intercepted"), "plain HTTP is not reported as interception: \(result.stderr)")
    }

    @Test func aDownRegistryBehindTinyproxyIsTheProxysFailureNotTheRegistrys() async throws {
        let lab = try await Lab()
        let vantages = try lab.vantagesFile()
        let port = lab.registry.port
        lab.registry.stop()
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", vantages] + lab.registryOptions())
        #expect(result.status == 3, "\(result.stderr)")
        let proxyLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("  http-proxy:") }.map(String.init) ?? ""
        #expect(proxyLine.contains("the proxy \(lab.httpProxy.url) answered HTTP 5"), "\(result.stderr)")
        #expect(proxyLine.contains("Server: tinyproxy"), "the proxy's own headers are quoted: \(proxyLine)")
        #expect(proxyLine.contains("not the registry"), "\(proxyLine)")
        #expect(!proxyLine.contains("the registry answered"), "\(proxyLine)")
        // The direct route says what it met: nothing listening on the registry's port.
        #expect(result.stderr.contains("127.0.0.1 port \(port)") || result.stderr.contains(":\(port)"), "\(result.stderr)")
    }

    @Test func aTLSRegistryDownBehindTinyproxyIsATunnelTheProxyCouldNotOpen() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        let vantages = try lab.vantagesFile()
        lab.registry.stop()
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", vantages] + lab.registryOptions())
        #expect(result.status == 3, "\(result.stderr)")
        let proxyLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("  http-proxy:") }.map(String.init) ?? ""
        #expect(proxyLine.contains("could not open one") && proxyLine.contains("not the registry"), "\(result.stderr)")
    }

    // MARK: the cache

    @Test func anUnwritableCacheIsAnInputOutputErrorNotADigestMismatch() async throws {
        let lab = try await Lab()
        _ = try lab.push(try lab.makeImage(layers: [2_000], seed: 32), Self.repository, tag: "1")
        // A cache on a read-only file system: every write into it fails (root ignores modes).
        let cache = lab.home.file("read-only-cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let mount = try Shell.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m,mode=700", "tmpfs", cache])
        guard mount.status == 0 else {
            print("skipped: mount -t tmpfs is not allowed here: \(mount.stderr)")
            return
        }
        defer { _ = try? Shell.run(["umount", "-l", cache]) }
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", try lab.vantagesFile()] + lab.registryOptions(),
            environment: ["THREETOFU_CACHE": cache])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("input/output error of the cache"), "\(result.stderr)")
        #expect(result.stderr.contains(cache), "\(result.stderr)")
        #expect(!result.stderr.contains("does not match its digest"), "\(result.stderr)")
    }

    // MARK: references

    @Test func aTagThatIsNotThereIsNamedWithTagsThatAre() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [2_000], seed: 33)
        for tag in ["1.0", "1.1", "latest"] { _ = try lab.push(image, Self.repository, tag: tag) }
        let vantages = try lab.vantagesFile()
        let result = try lab.run(["pull", "\(lab.registry.host)/\(Self.repository):1.2", "--output", lab.home.file("o.tar"), "--vantages", vantages] + lab.registryOptions())
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("the tag '1.2' is not there"), "\(result.stderr)")
        #expect(result.stderr.contains("tags there include 1.0, 1.1, latest;"), "\(result.stderr)")
        #expect(result.stderr.contains("every one says: the tag '1.2' is not there"), "the verdict says why: \(result.stderr)")

        let digest = "sha256:" + String(repeating: "0", count: 64)
        let byDigest = try lab.run(["pull", "\(lab.registry.host)/\(Self.repository)@\(digest)", "--output", lab.home.file("o.tar"), "--vantages", vantages] + lab.registryOptions())
        #expect(byDigest.status == 2, "\(byDigest.stderr)")
        #expect(byDigest.stderr.contains("\(Self.repository)@\(digest)"), "\(byDigest.stderr)")
        #expect(!byDigest.stderr.contains("\(Self.repository):sha256:"), "\(byDigest.stderr)")
    }

    // MARK: the vantages file

    @Test func noVantagesFileIsSaidAtOnceNamingTheFileLookedFor() async throws {
        let lab = try await Lab()
        let before = lab.registry.log().count
        let result = try lab.run(["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar")] + lab.registryOptions(), timeout: .seconds(60))
        #expect(result.status == 3, "the policy cannot be met, as when too few vantages answer: \(result.stderr)")
        #expect(result.stderr.contains("looked for \(lab.home.path)/.config/3tofu/vantages.toml"), "\(result.stderr)")
        #expect(result.stderr.contains("3tofu vantages init"), "\(result.stderr)")
        #expect(result.stderr.contains("policy 'strict' needs 3 agreeing vantages"), "\(result.stderr)")
        // Nothing reached the registry: its log did not grow by a single request.
        #expect(!lab.registry.log().dropFirst(before).contains("/v2/"), "the registry was asked before the refusal")
    }

    @Test func vantagesInitWritesAStarterFileThatCheckTestsAndNeverOverwrites() async throws {
        let lab = try await Lab()
        let written = try lab.run(["vantages", "init"], timeout: .seconds(60))
        #expect(written.status == 0, "\(written.stderr)")
        let path = lab.home.path + "/.config/3tofu/vantages.toml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("kind = \"local\"") && text.contains("socks5h://127.0.0.1:9050") && text.contains("# kind = \"ssh\""))
        #expect(written.stdout.contains("3tofu vantages check"), "\(written.stdout)")

        // `vantages check` reads it (the default path) and tests each route: this machine reaches
        // the registry; the Tor route has no tor behind it here, and says so.
        let check = try lab.run(["vantages", "check", "--registry", lab.registry.host] + lab.registryOptions(), timeout: .seconds(120))
        #expect(check.stdout.contains("vantages from \(path)"), "\(check.stdout)")
        let local = check.stdout.split(separator: "\n").first { $0.contains(" local ") }.map(String.init) ?? ""
        #expect(local.contains("ok"), "\(check.stdout)")
        let tor = check.stdout.split(separator: "\n").first { $0.contains(" tor ") }.map(String.init) ?? ""
        #expect(tor.contains("FAILED") && tor.contains("proxy"), "\(check.stdout)")
        #expect(check.status == 3, "\(check.stderr)")

        try "edited\n".write(toFile: path, atomically: true, encoding: .utf8)
        let again = try lab.run(["vantages", "init"], timeout: .seconds(60))
        #expect(again.status == 2, "\(again.stderr)")
        #expect(again.stderr.contains("\(path) already exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "edited\n", "the existing file is left as it was")
    }

    // MARK: evidence of a failed vantage

    @Test func aFailedVantageKeepsWhereItConnectedInTheReport() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        _ = try lab.push(try lab.makeImage(layers: [2_000], seed: 34), Self.repository, tag: "1")
        let reportPath = lab.home.file("report.json")
        // No --ca-cert: every route fails its TLS check, after connecting.
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", try lab.vantagesFile(), "--report", reportPath])
        #expect(result.status == 3, "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.vantages.count == 3)
        for vantage in report.vantages {
            #expect(vantage.status == .error)
            let evidence = try #require(vantage.evidence, "\(vantage.name) keeps what it saw")
            #expect(evidence.remoteIP == "127.0.0.1", "\(vantage.name): \(evidence)")
            #expect(evidence.effectiveURL?.hasPrefix("https://\(lab.registry.host)/v2/") == true, "\(vantage.name): \(evidence)")
            #expect(evidence.timings.nameLookup > 0 && evidence.timings.tlsHandshake == 0 && evidence.timings.firstByte == 0, "\(vantage.name): \(evidence.timings)")
        }
        try ReportSchema.validate(reportPath: reportPath)
        let shown = try lab.run(["report", "show", reportPath], timeout: .seconds(60))
        let reached = shown.stdout.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("got as far as ") }
        #expect(reached.count == 3 && reached.allSatisfy { $0.hasSuffix(" a TLS certificate from 127.0.0.1 that failed verification; no HTTP request sent") }, "\(shown.stdout)")
        // Each route keeps the certificate it was shown: the registry's own, from the test CA nobody trusted.
        for vantage in report.vantages {
            #expect(vantage.evidence?.tlsCertificatesShownNotTrusted?.first?.sha256 == ca.leafSHA256Fingerprint, "\(vantage.name)")
        }
    }

    @Test func anSSHVantagesTLSFailureReadsAsALocalOne() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        let server = try await SSHServer()
        _ = try lab.push(try lab.makeImage(layers: [2_000], seed: 35), Self.repository, tag: "1")
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("vps", server), only: [.direct])
        // No --ca-cert: the registry's certificate is from a CA neither this machine nor the SSH host knows.
        let result = try lab.run(["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", vantages])
        #expect(result.status == 3, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let local = lines.first { $0.hasPrefix("  direct:") } ?? ""
        let ssh = lines.first { $0.hasPrefix("  vps:") } ?? ""
        let words = "TLS verification or handshake failed"
        let advice = "pass it with --ca-cert FILE (every vantage, SSH hosts included) or set ca_cert = \"FILE\" on this vantage"
        #expect(local.contains(words) && local.contains(advice), "\(local)")
        #expect(ssh.contains("curl on ssh://") && ssh.contains(words) && ssh.contains(advice), "the SSH host's curl error in the same words: \(ssh)")
    }

    // MARK: help and small commands

    @Test func helpKeepsExamplesIndentedAndExplainsCaCertAndTagAll() throws {
        let home = try TemporaryDirectory(prefix: "home")
        for command in [["pull"], ["fetch"], ["bottle"], ["keygen"], ["report", "verify"], ["vantages", "check"], ["vantages", "init"], []] {
            // Through a pipe, as argument-parser wraps at 80 columns.
            let help = try ThreeTofuCLI.run(command + ["--help"], home: home.path, timeout: .seconds(30))
            let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            if let start = lines.firstIndex(where: { $0 == "EXAMPLES" || $0 == "TUNING (environment)" }) {
                let block = lines[(start + 1)...].prefix { !$0.isEmpty }
                #expect(!block.isEmpty)
                for line in block {
                    #expect(line.hasPrefix("  "), "\(command): an example line fell to column 0: '\(line)'")
                }
            }
            #expect(!help.stdout.isEmpty, "\(command)")
        }
        let pull = try ThreeTofuCLI.run(["pull", "--help"], home: home.path, timeout: .seconds(30)).stdout
        let caCert = pull.split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.contains("--ca-cert") }.prefix(12).joined(separator: " ")
        #expect(caCert.contains("SSH hosts included") || caCert.contains("every SSH host"), "\(caCert)")
        #expect(caCert.contains("ca_cert"), "\(caCert)")
        let bottle = try ThreeTofuCLI.run(["bottle", "--help"], home: home.path, timeout: .seconds(30)).stdout.replacingOccurrences(of: "\n", with: " ")
        #expect(bottle.contains("`all` is not every tag"), "\(bottle)")
    }

    @Test func keygenCreatesTheKeysDirectoryOnAFreshMachine() throws {
        let home = try TemporaryDirectory(prefix: "home")
        let key = home.path + "/.config/3tofu/report-key"
        let result = try ThreeTofuCLI.run(["keygen", "--output", key], home: home.path, timeout: .seconds(30))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: key) && FileManager.default.fileExists(atPath: key + ".pub"))
        #expect(result.stdout.hasPrefix("SHA256:"), "the one fingerprint form: \(result.stdout)")
        let mode = try FileManager.default.attributesOfItem(atPath: home.path + "/.config/3tofu")[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }
}
