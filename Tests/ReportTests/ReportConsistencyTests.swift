import Agreement
import Report
import Testing

/// `report verify`'s recomputation for subjects other than images, and for what fetch and bottle
/// reports hold that image reports do not.
@Suite struct ReportConsistencyTests {
    static let policy = ReportSamples.policy
    static let bytes = ReportSamples.digest("a")
    static let named = ReportSamples.digest("e")

    static func file(published: String) -> ObservedFile {
        ObservedFile(url: "https://x.test/tool.tar.gz", finalURL: "https://x.test/tool.tar.gz", sha256: bytes, size: 1000, publishedSHA256: published)
    }

    /// Three vantages read a checksum file naming other bytes than they received: each is refused
    /// (`tampered`) and keeps what it saw, as `fetch` writes it.
    static var contradicted: AgreementReport {
        let names = ["home", "tor", "vps"]
        let seen = file(published: named)
        let message = "the checksum file publishes \(named) but the file received hashes to \(bytes)"
        let decision = Agreement.decide(
            names.map { Observation(vantage: $0, kind: "local", route: "direct", outcome: .contradicted(seen, message)) }, policy: policy)
        return AgreementReport(
            tool: .init(version: "0.1.0"), createdAt: "2026-11-23T10:00:00Z", subject: .init(kind: .file, reference: seen.url, platform: nil),
            policy: .init(policy, usedInsecureRegistry: false), verdict: decision.verdict, reason: decision.reason, agreed: nil,
            vantages: names.map {
                AgreementReport.VantageEntry(name: $0, kind: "local", route: "direct", status: .tampered, error: message, observed: .file(seen), evidence: nil, seconds: 0.1)
            },
            comparisons: decision.comparisons, artifact: nil)
    }

    @Test func aRefusedVantageThatKeepsWhatItSawVerifies() {
        let report = Self.contradicted
        #expect(report.verdict == .disagree)
        let result = ReportConsistency.check(report)
        #expect(result.succeeded, "\(result.failed)")
        #expect(result.notes.isEmpty, "\(result.notes)")
    }

    @Test func whatARefusedVantageSawIsRecomputedToo() {
        var edited = Self.contradicted
        edited.vantages[1].observed = .file(Self.file(published: ReportSamples.digest("7")))
        #expect(ReportConsistency.check(edited).failed.contains { $0.contains("comparisons do not follow") && $0.contains("published sha256") })
    }

    @Test func aVantageInErrorStillRecordsNoObservation() {
        var edited = Self.contradicted
        edited.vantages[0].status = .error
        #expect(ReportConsistency.check(edited).failed.contains { $0.contains("has status error yet records an observation") })
    }

    @Test func aNoteAfterTheReasonIsShownAndAnotherReasonFails() {
        var noted = ReportSamples.agree
        noted.policy = .init(Self.policy, usedInsecureRegistry: false)
        noted.reason += " The formula API check was skipped."
        let result = ReportConsistency.check(noted)
        #expect(result.succeeded, "\(result.failed)")
        #expect(result.notes == ["the report adds to its reason: The formula API check was skipped."])

        var other = noted
        other.reason = "Everything is fine."
        #expect(ReportConsistency.check(other).failed.contains { $0.contains("reason is not the one its observations give") })
    }
}
