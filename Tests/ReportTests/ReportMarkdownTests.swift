import Agreement
import Foundation
import Report
import Testing

@Suite struct ReportMarkdownTests {
    /// Splits a GFM table row into cells the way GitHub does: on `|` not preceded by a backslash.
    func cells(_ line: String) -> [String] {
        var cells: [String] = []
        var current = ""
        var escaped = false
        for character in line.dropFirst().dropLast() {
            if character == "|" && !escaped {
                cells.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
            escaped = character == "\\" && !escaped
        }
        cells.append(current.trimmingCharacters(in: .whitespaces))
        return cells
    }

    func tableLines(_ markdown: String) -> [String] {
        markdown.split(separator: "\n").map(String.init).filter { $0.hasPrefix("| ") }
    }

    /// Markdown and HTML are often read as printed (`report show --format markdown`): no value
    /// from the report may bring an escape sequence, a C1 control or a bidirectional override.
    @Test func controlCharactersNeverReachTheTerminal() {
        var report = ReportSamples.insufficient
        report.vantages[1].error = "bad\u{1B}]0;pwned\u{07}"
        report.vantages[1].name = "mir\u{1B}[2Jror\u{202E}"
        report.vantages[1].route = "socks5h://x\u{9B}2J"
        report.reason = "Nope\u{9B}31m."
        for (format, text) in [("markdown", ReportRenderer.markdown(report)), ("html", ReportHTML.render(report))] {
            let bad = text.unicodeScalars.filter { $0 == "\u{1B}" || $0 == "\u{9B}" || $0 == "\u{07}" || $0 == "\u{202E}" }
            #expect(bad.isEmpty, "\(format) holds \(bad.map { String($0.value, radix: 16) })")
            #expect(text.contains("pwned"), "the text is still shown")
        }
    }

    @Test func agreeingReportIsAProperTable() throws {
        let markdown = ReportRenderer.markdown(ReportSamples.agree)
        #expect(markdown.hasPrefix("### 3tofu agreement report\n"))
        #expect(markdown.contains("- **Subject:** image `r.test/app:1`\n"))
        #expect(markdown.contains("- **Platform:** linux/amd64\n"))
        #expect(markdown.contains("- **Policy:** strict (`sha256:ffffffffffff…`)\n"))
        #expect(markdown.contains("- **Tool:** 3tofu 0.1.0\n"))
        #expect(markdown.contains("**Verdict: ✅ AGREE** — All 3 answering vantages agree"))
        let table = tableLines(markdown)
        #expect(table.count == 5, "header, delimiter, three vantages")
        #expect(cells(table[0]) == ["Vantage", "Kind", "Route", "Status", "manifest", "platform manifest", "config", "layer count"])
        #expect(cells(table[1]) == Array(repeating: "---", count: 8))
        #expect(cells(table[3]) == [
            "tor", "proxy", "`socks5h://127.0.0.1:9050`", "ok", "`\(ReportSamples.digest("a"))`", "`\(ReportSamples.digest("b"))`",
            "`\(ReportSamples.digest("c"))`", "`3`",
        ])
        #expect(!markdown.contains("⚠"))
        #expect(markdown.contains("  - TLS leaf: `sha256:\(String(repeating: "e", count: 64))`\n"), "Markdown keeps full fingerprints")
        #expect(markdown.contains("  - Rate limit remaining: `99;w=21600`\n"))
        #expect(markdown.contains("- SHA-256: `\(String(repeating: "0", count: 64))`\n"))
        #expect(!markdown.contains("\u{1B}"))
    }

    @Test func disagreeingCellsAreBoldAndMarked() throws {
        let markdown = ReportRenderer.markdown(ReportSamples.disagree)
        #expect(markdown.contains("**Verdict: ❌ DISAGREE**"))
        let table = tableLines(markdown)
        #expect(cells(table[0])[4] == "⚠ **manifest**")
        #expect(cells(table[0])[5] == "platform manifest")
        let tor = try #require(table.first { $0.hasPrefix("| tor ") })
        #expect(cells(tor)[4] == "⚠ **`\(ReportSamples.digest("9"))`**")
        #expect(cells(tor)[5] == "`\(ReportSamples.digest("b"))`")
        let home = try #require(table.first { $0.hasPrefix("| home ") })
        #expect(!home.contains("⚠") && !home.contains("**"))
        #expect(markdown.contains("⚠ marks a value that differs"))
        #expect(markdown.contains("#### Artifact\n\nNone written.\n"))
    }

    @Test func failedVantageRow() throws {
        let markdown = ReportRenderer.markdown(ReportSamples.insufficient)
        #expect(markdown.contains("**Verdict: ⚠️ INSUFFICIENT**"))
        let mirror = try #require(tableLines(markdown).first { $0.hasPrefix("| mirror ") })
        #expect(cells(mirror) == ["mirror", "proxy", "`http://127.0.0.1:8888`", "**error**", "-", "-", "-", "-"])
        #expect(markdown.contains("- **mirror** (proxy, `http://127.0.0.1:8888`): **error** after 1.25 s\n  - Error: proxy refused CONNECT to r.test:443 (HTTP 403)\n"))
    }

    /// Pipes, backticks, emphasis and line breaks in names, routes, values and errors cannot break the
    /// table or inject formatting.
    @Test func cellsAreEscaped() throws {
        var report = ReportSamples.disagree
        report.vantages[0].name = "home|lab *1*"
        report.vantages[0].route = "http://p`x|y:3128"
        report.vantages[1].error = "line one\nline | two <b>"
        report.comparisons = [Comparison(item: "odd|item", agree: false, values: ["home|lab *1*": "a|b`c", "tor": "plain"])]
        let markdown = ReportRenderer.markdown(report)
        let table = tableLines(markdown)
        #expect(table.count == 2 + report.vantages.count)
        for line in table {
            #expect(cells(line).count == 5, "every row has the same cells: \(line)")
        }
        #expect(cells(table[0])[4] == "⚠ **odd\\|item**")
        let home = cells(table[2])
        #expect(home[0] == "home\\|lab \\*1\\*")
        #expect(home[2] == "`` http://p`x\\|y:3128 ``")
        #expect(home[4] == "⚠ **`` a\\|b`c ``**")
        #expect(markdown.contains("Error: line one line \\| two \\<b\\>\n"))
    }

    @Test func evidenceWithRedirectsAndNoPlatform() {
        let report = ReportSamples.report([
            .init(name: "home", kind: "local", route: "direct", outcome: .success(ReportSamples.image()),
                  evidence: ReportSamples.evidence(ip: "::1", chain: ["https://r.test/v2/app/blobs/x", "https://cdn.test/x"])),
        ], subjectPlatform: nil)
        let markdown = ReportRenderer.markdown(report)
        #expect(!markdown.contains("Platform:"))
        #expect(markdown.contains("  - Redirects: `https://r.test/v2/app/blobs/x` → `https://cdn.test/x`\n"))
        #expect(markdown.contains("  - Effective URL: `https://cdn.test/x`\n"))
        let text = ReportRenderer.text(report, color: false)
        #expect(text.contains("redirects      https://r.test/v2/app/blobs/x → https://cdn.test/x\n"))
        #expect(!text.contains("platform  "))
    }
}
