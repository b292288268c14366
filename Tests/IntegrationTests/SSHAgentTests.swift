import Foundation
import Report
import Testing
import TestSupport

/// `agent = "3tofu"`: the remote host runs `3tofu agent` (here: the built executable on the
/// sshd's PATH), and a pull through local + proxy + that SSH vantage agrees.
@Suite("SSH vantages with the 3tofu agent", .serialized)
struct SSHAgentTests {
    @Test func pullThroughTheThreeTofuAgentAgrees() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [70_000, 4_000], seed: 31)
        _ = try lab.push(image, SSHVantageTests.repository, tag: "1")
        let binary = URL(fileURLWithPath: try ThreeTofuCLI.executable).deletingLastPathComponent().path
        let server = try await SSHServer(environment: ["PATH": "\(binary):/usr/bin:/bin"])
        let vantage = SSHVantageTests.sshVantage("vps", server).replacingOccurrences(of: "agent = \"curl\"", with: "agent = \"3tofu\"")
        let vantages = try lab.vantagesFile(extra: vantage, only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(SSHVantageTests.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath]
                + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"]).status == 0)
        let report = try ReportFile.read(reportPath)
        let ssh = try #require(report.vantages.first { $0.name == "vps" })
        #expect(ssh.kind == "ssh" && ssh.status == .ok)
        #expect(ssh.observed?.image?.topDigest == image.topDigest)
        #expect(ssh.evidence?.sshHostKey == server.hostKeyFingerprint)
        #expect(server.log().contains("Accepted publickey"))

        let check = try lab.run(["vantages", "check", "--vantages", vantages, "--registry", lab.registry.host] + lab.registryOptions())
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let vpsLine = try #require(check.stdout.split(separator: "\n").first { $0.contains("vps") })
        #expect(vpsLine.contains(server.hostKeyFingerprint) && vpsLine.contains("3tofu agent") && vpsLine.contains("HTTP 200"), "\(check.stdout)")
    }
}
