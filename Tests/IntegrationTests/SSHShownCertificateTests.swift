import Foundation
import Report
import Testing
import TestSupport

/// An SSH vantage whose remote fails to verify the registry's certificate keeps, in the report and
/// in `--json`, the certificate the remote was shown (shown, not trusted): with `agent = "curl"`
/// recorded by `openssl s_client` on the remote, with `agent = "3tofu"` by the agent's own
/// connect-only handshake, and on a remote without openssl the reason none was recorded. The
/// registry (TLS with a test CA no vantage is given) logs every request: none arrives.
@Suite("SSH shown certificate", .serialized)
struct SSHShownCertificateTests {
    static let repository = "shown/ssh"

    @Test func sshVantagesFailingVerificationKeepTheCertificateTheRemoteWasShown() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca), .accessLog])
        defer { lab.stop() }
        let image = try lab.makeImage(layers: [3_000], seed: 47)
        _ = try lab.push(image, Self.repository, tag: "1")
        let before = lab.registry.requests().count

        let binary = URL(fileURLWithPath: try ThreeTofuCLI.executable).deletingLastPathComponent().path
        let server = try await SSHServer(environment: ["PATH": "\(binary):/usr/bin:/bin"])
        defer { server.stop() }
        let scratch = try TemporaryDirectory(prefix: "no-openssl")
        let bare = try await SSHServer(environment: ["PATH": try SSHRemoteFaultTests.pathWithout("openssl", in: scratch.path)])
        defer { bare.stop() }
        let agent = SSHVantageTests.sshVantage("vps-agent", server).replacingOccurrences(of: "agent = \"curl\"", with: "agent = \"3tofu\"")
        let vantages = try lab.vantagesFile(
            extra: SSHVantageTests.sshVantage("vps-curl", server) + "\n" + agent + "\n" + SSHVantageTests.sshVantage("vps-bare", bare),
            includeStandard: false)
        let reportPath = lab.home.file("report.json")
        // No --ca-cert: no remote trusts the registry's test CA.
        let result = try lab.run(
            ["resolve", "\(lab.registry.host)/\(Self.repository):1", "--vantages", vantages, "--report", reportPath, "--json"])
        #expect(result.status == 3, "no vantage answered: \(result.stderr)")

        // What the registry shows, as a tool nobody here wrote sees it.
        let expected = try ShownCertificateTests.leafFingerprint(proxyPort: nil, target: lab.registry.host)
        #expect(expected == ca.leafSHA256Fingerprint)

        let report = try ReportFile.read(reportPath)
        for name in ["vps-curl", "vps-agent"] {
            let vantage = try #require(report.vantages.first { $0.name == name })
            #expect(vantage.status == .error)
            let evidence = try #require(vantage.evidence, "\(name): \(vantage)")
            let shown = try #require(evidence.tlsCertificatesShownNotTrusted?.first, "\(name) keeps what its remote was shown: \(evidence)")
            #expect(shown.sha256 == expected, "\(name)")
            #expect(shown.issuer?.isEmpty == false && shown.subject?.isEmpty == false, "\(name): \(shown)")
            #expect(shown.notBefore?.hasSuffix("Z") == true && shown.notAfter?.hasSuffix("Z") == true, "\(name): \(shown)")
            #expect(evidence.tlsCertificateSHA256.isEmpty, "\(name): nothing was trusted")
            #expect(evidence.tlsCertificatesNotRecorded == nil, "\(name)")
            #expect(evidence.sshHostKey == server.hostKeyFingerprint, "\(name)")
        }
        let bareEntry = try #require(report.vantages.first { $0.name == "vps-bare" })
        #expect(bareEntry.evidence?.tlsCertificatesShownNotTrusted == nil, "\(bareEntry)")
        #expect(bareEntry.evidence?.tlsCertificatesNotRecorded?.contains("openssl") == true, "says why nothing was recorded: \(bareEntry)")
        try ReportSchema.validate(reportPath: reportPath)

        // Not one HTTP request reached the registry over the unverified connections.
        #expect(lab.registry.requests().count == before, "\(lab.registry.requests().dropFirst(before))")

        // --json: the same, per vantage.
        try ReportSchema.validateResult(result.stdout)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let entries = ((document["subjects"] as? [[String: Any]])?.first?["vantages"] as? [[String: Any]]) ?? (document["vantages"] as? [[String: Any]] ?? [])
        let curlEntry = try #require(entries.first { $0["name"] as? String == "vps-curl" }, "\(result.stdout)")
        #expect((curlEntry["tlsCertificatesShownNotTrusted"] as? [[String: Any]])?.first?["sha256"] as? String == expected, "\(curlEntry)")
        let bareJSON = try #require(entries.first { $0["name"] as? String == "vps-bare" }, "\(result.stdout)")
        #expect((bareJSON["tlsCertificatesNotRecorded"] as? String)?.contains("openssl") == true, "\(bareJSON)")

        // report show: both labelled.
        let text = try lab.run(["report", "show", reportPath], timeout: .seconds(60))
        #expect(text.stdout.contains("TLS shown, not trusted  sha256:\(expected)"), "\(text.stdout)")
        #expect(text.stdout.contains("TLS shown, not recorded"), "\(text.stdout)")
    }
}
