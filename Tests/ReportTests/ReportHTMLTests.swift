import Foundation
import Report
import Testing
import TestSupport

/// `report show --format html`: one self-contained page, everything escaped, dissent highlighted,
/// and it renders in a real browser (headless Chromium).
@Suite struct ReportHTMLTests {
    static var hostile: AgreementReport {
        var report = ReportSamples.disagree
        report.vantages[0].evidence?.effectiveURL = "https://r.test/<script>alert(1)</script>"
        report.vantages[0].evidence?.urlChain = ["https://r.test/\"><img src=x onerror=alert(1)>"]
        report.reason = "The vantages disagree on manifest: <b>tor</b> & 'home'."
        return report
    }

    @Test func pageIsSelfContainedAndEscaped() {
        let html = ReportHTML.render(Self.hostile)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;b&gt;tor&lt;/b&gt; &amp; &#39;home&#39;"))
        // No element loads anything: no src/href attribute on any tag, no url() in the style.
        #expect(html.range(of: #"<[a-zA-Z][^>]*\s(src|href)\s*="#, options: .regularExpression) == nil)
        #expect(!html.contains("url("))
        // Dissent: "tor" saw another manifest, and its cell is highlighted.
        #expect(html.contains("class=\"dissent\" title=\"\(ReportSamples.digest("9"))\""))
        #expect(html.contains("<p class=\"verdict disagree\"><strong>DISAGREE</strong>"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")))
    func pageRendersInHeadlessChromium() throws {
        let directory = try TemporaryDirectory(prefix: "html")
        let page = directory.file("report.html")
        try ReportHTML.render(Self.hostile).write(toFile: page, atomically: true, encoding: .utf8)
        let screenshot = directory.file("report.png")
        let result = try Shell.run(
            ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(directory.file("profile"))",
             "--window-size=1400,1000", "--screenshot=\(screenshot)", "file://\(page)"],
            env: ["HOME": directory.path, "PATH": "/usr/bin:/bin"], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr.suffix(1000))")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 20_000, "a blank page would be a few kB; got \(png.count) bytes")
        if let keep = ProcessInfo.processInfo.environment["THREETOFU_KEEP_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: screenshot, toPath: keep)
        }
    }
}
