import Agreement
@testable import Commands
import Report
import Testing

/// The pure parts of what commands tell the user: help wrapping, the missing vantages file, and
/// what `report verify` says it checked.
@Suite struct MessageUnitTests {
    @Test func longIndentedHelpLinesWrapUnderThemselves() throws {
        let text = """
            Plain prose is left to argument-parser, however long it is, even past eighty columns of text here.

            EXAMPLES
              3tofu pull 127.0.0.1:5000/test/app:1 --insecure-registry 127.0.0.1:5000 --output app.tar
              signature    made by --key over the report's canonical form; a signed report checked without --key is refused
            """
        let wrapped = HelpText.wrap(text)
        let lines = wrapped.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].count > HelpText.width, "prose is not touched")
        try #require(lines.count == 7, "the two long indented lines are wrapped in two each: \(lines)")
        for line in lines.dropFirst(3) {
            #expect(line.count <= HelpText.width && line.hasPrefix("  "), "'\(line)'")
        }
        #expect(lines[3] == "  3tofu pull 127.0.0.1:5000/test/app:1 --insecure-registry 127.0.0.1:5000 \\")
        #expect(lines[4] == "      --output app.tar", "a command goes on as a shell continuation")
        #expect(lines[6].hasPrefix(String(repeating: " ", count: 15)) && !lines[6].hasPrefix(String(repeating: " ", count: 16)), "a definition hangs under its text: '\(lines[6])'")
        #expect(wrapped.replacingOccurrences(of: " \\\n", with: " ").split(whereSeparator: \.isWhitespace) == text.split(whereSeparator: \.isWhitespace), "no word lost")
    }

    @Test func noVantagesFileRefusesAPolicyThisMachineCannotMeet() {
        let strict = Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0)
        let message = MissingVantages.refusal(policy: strict, lookedFor: "/home/u/.config/3tofu/vantages.toml")
        #expect(message?.contains("looked for /home/u/.config/3tofu/vantages.toml") == true)
        #expect(message?.contains("policy 'strict' needs 3 agreeing vantages") == true)
        #expect(message?.contains("3tofu vantages init") == true && message?.contains("3tofu vantages check") == true)
        let ssh = Policy(name: "ssh-only", description: "", minAgreeing: 1, maxUnavailable: 0, requireRouteKinds: ["ssh"])
        #expect(MissingVantages.refusal(policy: ssh, lookedFor: "f")?.contains("a vantage of kind ssh") == true)
        let one = Policy(name: "one", description: "", minAgreeing: 1, maxUnavailable: 0)
        #expect(MissingVantages.refusal(policy: one, lookedFor: "f") == nil, "this machine alone can meet it")
    }

    @Test func reportVerifySaysWhatItChecked() {
        let report = AgreementReport(
            tool: .init(version: "0.1.0"), createdAt: "2026-11-23T10:00:00Z", subject: .init(kind: .image, reference: "r.test/app:1", platform: "linux/amd64"),
            policy: .init(name: "strict", sha256: String(repeating: "f", count: 64)), verdict: .agree, reason: "All agree.", agreed: nil,
            vantages: ["home", "tor"].map { .init(name: $0, kind: "local", route: "direct", status: .ok, error: nil, observed: nil, evidence: nil, seconds: 0.1) },
            comparisons: [], artifact: .init(path: "/tmp/a.tar", format: "docker-archive", sha256: String(repeating: "0", count: 64)))
        var result = VerificationResult()
        result.passed.append("signed by the given key SHA256:abc: the signature covers the whole report, so nothing in it changed since it was signed")
        let text = ReportVerifyCommand.render(result, report: "r.json", agreement: report)
        #expect(text.hasPrefix(
            "checked: image r.test/app:1 (linux/amd64), verdict AGREE under policy 'strict', 2 vantages (home ok, tor ok), artifact docker-archive sha256:\(String(repeating: "0", count: 64)), made 2026-11-23T10:00:00Z\n"))
        #expect(text.contains("✓ signed by the given key SHA256:abc: the signature covers the whole report"))
    }
}
