import Agreement
import Report
import Testing

@Suite struct ReportRendererTests {
    static let escape = "\u{1B}"

    /// The table lines of a text rendering: from the header line to the line before the blank one.
    func tableLines(_ text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.contains("vantage") && $0.contains("status") }) else { return [] }
        return Array(lines[start...].prefix { !$0.isEmpty && !$0.contains("more agreeing") && !$0.contains("= differs") })
    }

    func row(_ name: String, in text: String) -> String {
        tableLines(text).first { $0.hasPrefix("  \(name) ") } ?? ""
    }

    @Test func agreeingReportAsText() throws {
        let report = ReportSamples.agree
        let text = ReportRenderer.text(report, color: false)
        #expect(text.contains("subject   image r.test/app:1"))
        #expect(text.contains("platform  linux/amd64"))
        #expect(text.contains("policy    strict (sha256:ffffffffffff…)"))
        #expect(text.contains("created   2026-11-23T10:00:00Z"))
        #expect(text.contains("tool      3tofu 0.1.0"))
        #expect(text.contains("Verdict: AGREE — \(report.reason)"))
        let table = tableLines(text)
        #expect(table.count == 4)
        #expect(table[0].split(separator: " ", omittingEmptySubsequences: true).prefix(4) == ["vantage", "kind", "route", "status"])
        #expect(table[0].contains("platform manifest") && table[0].contains("config") && table[0].contains("layer count"))
        let tor = row("tor", in: text)
        #expect(tor.contains("proxy  socks5h://127.0.0.1:9050"))
        #expect(tor.contains("sha256:aaaaaaaaaaaa…  sha256:bbbbbbbbbbbb…  sha256:cccccccccccc…  3"))
        #expect(!table.joined().contains(String(repeating: "a", count: 13)), "digests in the table are shortened")
        #expect(text.contains("4 more agreeing items not shown (media type, layer 1, layer 2, layer 3)"))
        #expect(text.contains("rate limit remaining  99;w=21600"))
        #expect(text.contains("TLS leaf              sha256:eeeeeeeeeeee…"))
        #expect(text.contains("remote IP             127.0.0.1"))
        #expect(text.contains("effective URL         https://r.test/v2/app/manifests/1"))
        #expect(text.contains("HTTP version          2"))
        #expect(text.contains("path    /tmp/app.tar\n  format  docker-archive\n  sha256  " + String(repeating: "0", count: 64)))
        #expect(!text.contains("!"), "nothing disagrees")
        #expect(!text.contains("Signature"))
        #expect(!text.contains(Self.escape))
    }

    @Test func disagreeingCellsAreRedInColorAndMarkedWithout() throws {
        let report = ReportSamples.disagree
        let colored = ReportRenderer.text(report, color: true)
        #expect(colored.contains("Verdict: \(Self.escape)[1;31mDISAGREE\(Self.escape)[0m — The vantages disagree on manifest"))
        let tor = row("tor", in: colored)
        #expect(tor.contains("\(Self.escape)[1;31msha256:999999999999…\(Self.escape)[0m"))
        #expect(tor.contains("\(Self.escape)[1;31msha256:888888888888…\(Self.escape)[0m"))
        #expect(!tor.contains("\(Self.escape)[1;31msha256:bbbbbbbbbbbb…"), "the agreeing platform manifest is not highlighted")
        for majority in ["home", "vps-fra"] {
            let line = row(majority, in: colored)
            #expect(!line.isEmpty && !line.contains(Self.escape), "\(majority) saw the majority's values")
        }

        let plain = ReportRenderer.text(report, color: false)
        #expect(!plain.contains(Self.escape))
        #expect(row("tor", in: plain).contains("!sha256:999999999999…"))
        #expect(row("tor", in: plain).contains("!sha256:888888888888…"))
        #expect(!row("home", in: plain).contains("!"))
        #expect(tableLines(plain)[0].contains("!manifest"))
        #expect(plain.contains("! = differs from what most answering vantages saw"))
        #expect(plain.contains("Artifact: none written"))
        #expect(plain.contains("TLS leaf       sha256:666666666666…"))
    }

    /// Columns line up whether or not colour codes are present: every row's platform manifest starts
    /// under the header's "platform manifest".
    @Test(arguments: [true, false])
    func columnsLineUp(color: Bool) throws {
        let rendered = ReportRenderer.text(ReportSamples.disagree, color: color)
        let lines = tableLines(rendered.replacing(#/\x1B\[[0-9;]*m/#, with: ""))
        let header = try #require(lines.first?.range(of: "platform manifest"))
        let column = lines[0].distance(from: lines[0].startIndex, to: header.lowerBound)
        #expect(lines.count == 4)
        for line in lines.dropFirst() {
            let cell = try #require(line.range(of: "sha256:bbbbbbbbbbbb…"))
            #expect(line.distance(from: line.startIndex, to: cell.lowerBound) == column, "\(line)")
        }
    }

    @Test func insufficientWithAFailedVantage() {
        let text = ReportRenderer.text(ReportSamples.insufficient, color: false)
        #expect(text.contains("Verdict: INSUFFICIENT — 1 of 3 vantages did not answer (mirror); policy 'strict' allows 0."))
        let mirror = row("mirror", in: text)
        #expect(mirror.contains("proxy  http://127.0.0.1:8888"))
        #expect(mirror.split(separator: " ").suffix(5) == ["error", "-", "-", "-", "-"])
        #expect(text.contains("mirror — proxy, http://127.0.0.1:8888: error after 1.25 s\n    error  proxy refused CONNECT to r.test:443 (HTTP 403)\n"))
        #expect(text.contains("Artifact: none written"))
        let colored = ReportRenderer.text(ReportSamples.insufficient, color: true)
        #expect(row("mirror", in: colored).contains("\(Self.escape)[1;33merror\(Self.escape)[0m"))
        #expect(colored.contains("INSUFFICIENT"))
    }

    @Test func signatureLineWhenSigned() {
        var report = ReportSamples.agree
        let key = ReportSigningKey().publicKey
        report.signature = .init(algorithm: "ed25519", publicKey: key.base64, value: "c2lnbmF0dXJl")
        let text = ReportRenderer.text(report, color: false)
        #expect(text.contains("Signature: signed (ed25519) by key \(key.fingerprint) (not verified here"))
        #expect(!text.contains("c2lnbmF0dXJl"))
        let markdown = ReportRenderer.markdown(report)
        #expect(markdown.contains("**Signature:** signed (ed25519) by key `\(key.fingerprint)` (not verified here"))
    }

    @Test func wideReportsShowHeadlineItemsAndEveryDisagreement() {
        // "tor" saw another second layer only.
        let report = ReportSamples.report([
            .init(name: "home", kind: "local", route: "direct", outcome: .success(ReportSamples.image()), evidence: nil),
            .init(name: "tor", kind: "proxy", route: "socks5h://127.0.0.1:9050", outcome: .success(ReportSamples.image(layers: ["1", "7", "3"])), evidence: nil),
            .init(name: "vps", kind: "ssh", route: "ssh://v@h:22", outcome: .success(ReportSamples.image()), evidence: nil),
        ])
        let text = ReportRenderer.text(report, color: false)
        let header = tableLines(text)[0]
        #expect(header.contains("!layer 2"))
        #expect(!header.contains("layer 1") && !header.contains("layer 3") && !header.contains("media type"))
        #expect(row("tor", in: text).contains("!sha256:777777777777… (1001 bytes)"))
        #expect(row("home", in: text).hasSuffix("sha256:222222222222… (1001 bytes)"))
        #expect(text.contains("3 more agreeing items not shown (media type, layer 1, layer 3)"))
        #expect(text.contains("    no evidence recorded\n"))
    }

    @Test func narrowReportsShowEveryItem() {
        var report = ReportSamples.agree
        report.comparisons = [
            Comparison(item: "file sha256", agree: true, values: ["home": "sha256:" + String(repeating: "1", count: 64)]),
            Comparison(item: "size", agree: true, values: ["home": "1234"]),
        ]
        let header = tableLines(ReportRenderer.text(report, color: false))[0]
        #expect(header.contains("file sha256") && header.contains("size"))
        #expect(!ReportRenderer.text(report, color: false).contains("not shown"))
    }

    @Test func aTieHighlightsEveryValueAndMissingItemsShowAsAbsent() {
        let report = ReportSamples.report([
            .init(name: "home", kind: "local", route: "direct", outcome: .success(ReportSamples.image(layers: ["1", "2"])), evidence: nil),
            .init(name: "tor", kind: "proxy", route: "socks5h://t:9050", outcome: .success(ReportSamples.image(layers: ["1", "2", "3"])), evidence: nil),
        ])
        let text = ReportRenderer.text(report, color: false)
        #expect(row("home", in: text).contains("!2"), "layer count: one against one, both highlighted")
        #expect(row("tor", in: text).contains("!3"))
        #expect(row("home", in: text).hasSuffix("!(absent)"), "home has no third layer")
        #expect(row("tor", in: text).hasSuffix("!sha256:333333333333… (1002 bytes)"))
        #expect(ReportRenderer.markdown(report).contains("⚠ **(absent)**"))
    }

    /// A report from elsewhere must not be able to drive the reader's terminal.
    @Test func controlCharactersNeverReachTheTerminal() {
        var report = ReportSamples.insufficient
        report.vantages[1].error = "bad\u{1B}]0;pwned\u{07}\nsecond line"
        report.vantages[1].name = "mir\u{1B}[2Jror"
        report.reason = "Nope\u{9B}31m."
        let text = ReportRenderer.text(report, color: false)
        #expect(!text.contains(Self.escape) && !text.contains("\u{07}") && !text.contains("\u{9B}"))
        #expect(text.contains("bad\u{FFFD}]0;pwned\u{FFFD} second line"))
        let colored = ReportRenderer.text(report, color: true)
        #expect(!colored.contains("\(Self.escape)[2J") && !colored.contains("\(Self.escape)]0;"))
    }

    @Test(arguments: [
        ("sha256:" + String(repeating: "a", count: 64), "sha256:aaaaaaaaaaaa…"),
        ("sha512:" + String(repeating: "b", count: 128), "sha512:bbbbbbbbbbbb…"),
        ("sha256:" + String(repeating: "c", count: 64) + " (1234 bytes)", "sha256:cccccccccccc… (1234 bytes)"),
        ("sha256:abc", "sha256:abc"),
        ("application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.index.v1+json"),
        ("(none: not an index)", "(none: not an index)"),
        ("3", "3"),
    ])
    func shortDigest(value: String, expected: String) {
        #expect(ReportRenderer.shortDigest(value) == expected)
    }
}

/// `blobRoutes`: the bytes each route carried, shown by every rendering when the report has them;
/// a report written before they were recorded has none, decodes, validates and renders as before.
@Suite struct ReportBlobRoutesTests {
    static var withRoutes: AgreementReport {
        var report = ReportSamples.agree
        report.blobRoutes = [.init(vantage: "home", bytes: 1_048_576), .init(vantage: "tor<x>", bytes: 42)]
        return report
    }

    @Test func everyRenderingNamesTheBytesEachRouteCarried() throws {
        let report = Self.withRoutes
        let text = ReportRenderer.text(report, color: false)
        #expect(text.contains("Bytes by route"))
        #expect(text.contains("home    1048576 bytes"), "\(text)")
        let markdown = ReportRenderer.markdown(report)
        #expect(markdown.contains("#### Bytes by route"))
        #expect(markdown.contains("1048576 bytes"))
        let html = ReportHTML.render(report)
        #expect(html.contains("<h2>Bytes by route</h2>"))
        #expect(html.contains("tor&lt;x&gt;"), "a vantage name is escaped")
        let errors = try SchemaCheck.errors(for: [ReportFile.encode(report)])
        #expect(errors == [[]], "\(errors)")
    }

    @Test func aReportWithoutThemReadsAndRendersAsBefore() throws {
        let old = try ReportFile.encode(ReportSamples.agree)
        #expect(!String(decoding: old, as: UTF8.self).contains("blobRoutes"), "an absent list is not written")
        let decoded = try ReportFile.decode(old, path: "old.json")
        #expect(decoded.blobRoutes == nil)
        #expect(decoded == ReportSamples.agree)
        #expect(!ReportRenderer.text(decoded, color: false).contains("Bytes by route"))
        #expect(!ReportRenderer.markdown(decoded).contains("Bytes by route"))
    }
}
