import Agreement
import Foundation
import Report
import Testing

/// What `report show` (text, Markdown, HTML) shows of reports other than an image's, of a
/// signature's key, and how the HTML page lets long values wrap.
@Suite struct ReportPresentationTests {
    /// Three vantages agree on a bottle: eight compared items, more than a report shows in full.
    static var bottle: AgreementReport {
        let seen = ObservedBottle(
            formula: "wget", version: "1.24.5", rebuild: 0, tag: "arm64_sonoma", apiVersion: "1.24.5", apiSHA256: ReportSamples.digest("4"),
            indexDigest: ReportSamples.digest("1"), manifestDigest: ReportSamples.digest("2"), annotationDigest: ReportSamples.digest("4"),
            platform: "darwin/arm64", layerDigest: ReportSamples.digest("4"), layerSize: 1_234_567)
        let names = ["home", "tor", "vps"]
        let decision = Agreement.decide(
            names.map { Observation(vantage: $0, kind: "local", route: "direct", outcome: .observed(seen)) }, policy: ReportSamples.policy)
        return AgreementReport(
            tool: .init(version: "0.1.0"), createdAt: "2026-11-23T10:00:00Z", subject: .init(kind: .bottle, reference: "wget@1.24.5 arm64_sonoma", platform: nil),
            policy: .init(ReportSamples.policy, usedInsecureRegistry: false), verdict: decision.verdict, reason: decision.reason,
            agreed: decision.agreed.map(ObservedSubject.bottle),
            vantages: names.map {
                AgreementReport.VantageEntry(name: $0, kind: "local", route: "direct", status: .ok, error: nil, observed: .bottle(seen), evidence: nil, seconds: 0.1)
            },
            comparisons: decision.comparisons, artifact: nil)
    }

    @Test func aBottleReportShowsTheBottlesOwnColumns() {
        let report = Self.bottle
        #expect(report.comparisons.count > 5, "the sample must be wider than a report shows in full")
        let text = ReportRenderer.text(report, color: false)
        let header = text.split(separator: "\n").first { $0.contains("vantage") && $0.contains("status") } ?? ""
        for item in ["version", "layer", "annotation digest", "formula API sha256"] {
            #expect(header.contains(item), "the text table shows \(item): \(header)")
        }
        #expect(text.contains("wget 1.24.5 rebuild 0"))
        let markdown = ReportRenderer.markdown(report)
        #expect(markdown.contains("| annotation digest |") && markdown.contains("| version |"))
        let html = ReportHTML.render(report)
        #expect(html.contains("<th>formula API sha256</th>") && html.contains("<th>version</th>"))
    }

    @Test func aSignatureShowsTheKeyAsTheSameFingerprintEverywhere() throws {
        let key = ReportSigningKey()
        var report = ReportSamples.agree
        report.signature = .init(algorithm: "ed25519", publicKey: key.publicKey.base64, value: "c2lnbmF0dXJl")
        let fingerprint = key.publicKey.fingerprint
        #expect(fingerprint.hasPrefix("SHA256:"))
        #expect(ReportRenderer.text(report, color: false).contains("by key \(fingerprint) (not verified here"))
        #expect(ReportRenderer.markdown(report).contains("by key `\(fingerprint)`"))
        #expect(ReportHTML.render(report).contains("by key <code>\(fingerprint)</code>"))
        for rendered in [ReportRenderer.text(report, color: false), ReportRenderer.markdown(report), ReportHTML.render(report)] {
            #expect(!rendered.contains(key.publicKey.base64.prefix(12)), "the raw base64 is not a second form of the key")
        }
    }

    @Test func theHTMLPageNeverBreaksADigestOrASizeMidNumber() {
        let html = ReportHTML.render(ReportSamples.disagree)
        #expect(!html.contains("break-all"), "break-all splits sha256:… and sizes anywhere")
        #expect(html.contains("code{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.85em;white-space:nowrap}"))
        // Wide values scroll inside their own box rather than wrapping.
        #expect(html.contains("<div class=\"scroll\"><table class=\"matrix\">"))
        #expect(html.contains("dd{margin:0;overflow-x:auto}"))
    }
}
