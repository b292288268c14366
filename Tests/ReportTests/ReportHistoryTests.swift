import Agreement
import Foundation
import Report
import Testing

/// A report under time rules: the history it carries is shown in every rendering (text,
/// Markdown, HTML) as a timeline, escaped; and `report verify` recomputes the time rules from it.
@Suite struct ReportHistoryTests {
    static let digestA = ReportSamples.digest("a")
    static let digestB = ReportSamples.digest("b")

    static func withHistory() -> AgreementReport {
        var report = sampleReport()
        report.history = HistoryEvidence(runs: [
            .init(time: "2026-11-01T06:00:00Z", digest: digestB, vantages: ["direct", "socks"], source: "local"),
            .init(time: "2026-11-02T06:00:00Z", digest: digestA, vantages: ["direct", "<b>evil</b>"], source: "import: SHA256:key"),
        ])
        return report
    }

    @Test func everyRenderingShowsTheTimelineAndTheMove() {
        let report = Self.withHistory()
        let text = ReportRenderer.text(report, color: false)
        let markdown = ReportRenderer.markdown(report)
        let html = ReportHTML.render(report)
        for rendered in [text, markdown, html] {
            #expect(rendered.contains("History"), "\(rendered)")
            #expect(rendered.contains("first seen 2026-11-01T06:00:00Z"), "\(rendered)")
            #expect(rendered.contains("MOVED at 2026-11-02T06:00:00Z"), "\(rendered)")
        }
        #expect(!html.contains("<b>evil</b>") && html.contains("&lt;b&gt;evil&lt;/b&gt;"))
        // No history, no section.
        #expect(!ReportRenderer.text(sampleReport(), color: false).contains("History"))
    }

    @Test func timeRulesAreRecordedInThePolicyOnlyWhenSet() throws {
        let plain = AgreementReport.PolicyReference(ReportSamples.policy, usedInsecureRegistry: false)
        #expect(plain.minDistinctDays == nil && plain.tagMoved == nil)
        let timed = AgreementReport.PolicyReference(ReportSamples.policy.with(TimeRules(minDistinctDays: 3, minFirstSeenSeconds: 60, tagMoved: .refuse)), usedInsecureRegistry: false)
        #expect(timed.parameters?.timeRules == TimeRules(minDistinctDays: 3, minFirstSeenSeconds: 60, tagMoved: .refuse))
        let decoded = try JSONDecoder().decode(AgreementReport.PolicyReference.self, from: JSONEncoder().encode(timed))
        #expect(decoded == timed)
    }
}
