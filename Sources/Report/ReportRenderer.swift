import Agreement
import Foundation

/// Renders an agreement report for people: a terminal text view (optionally coloured) and Markdown
/// that pastes into GitHub/GitLab issues. Nothing here verifies a signature or re-checks a digest.
public enum ReportRenderer {
    // MARK: Text

    /// The report as terminal text. With `color`, disagreeing cells are bold red (ANSI); without it
    /// they are marked with a leading `!` and the output contains no escape sequences.
    public static func text(_ report: AgreementReport, color: Bool) -> String {
        let style = TextStyle(color: color)
        var out = style.bold("3tofu agreement report") + "\n"
        out += aligned(headerFields(report, markdown: false), indent: 2)
        out += "\n" + "Verdict: " + style.verdict(report.verdict) + " — " + TextStyle.clean(report.reason) + "\n"

        let matrix = ReportMatrix(report)
        out += "\n" + style.bold("Agreement") + "\n"
        out += textTable(matrix, style: style)
        if !matrix.hiddenItems.isEmpty {
            out += "  " + TextStyle.clean(hiddenNote(matrix.hiddenItems)) + "\n"
        }
        if matrix.hasDissent {
            out += "  " + (color ? style.dissent("red") : "!") + " = differs from what most answering vantages saw (every value, on a tie)\n"
        }

        out += "\n" + style.bold("Evidence") + "\n"
        if report.vantages.isEmpty { out += "  no vantages recorded\n" }
        for vantage in report.vantages {
            let status = vantage.status == .ok ? "ok in" : style.failure("error") + " after"
            out += "  " + style.bold(TextStyle.clean(vantage.name)) + " — " + TextStyle.clean("\(vantage.kind), \(vantage.route)")
                + ": \(status) \(seconds(vantage.seconds))\n"
            let fields = evidenceFields(vantage, markdown: false)
            out += fields.isEmpty ? "    no evidence recorded\n" : aligned(fields, indent: 4)
        }

        out += "\n"
        if let artifact = report.artifact {
            out += style.bold("Artifact") + "\n"
            out += aligned([("path", artifact.path), ("format", artifact.format), ("sha256", artifact.sha256)], indent: 2)
        } else {
            out += style.bold("Artifact") + ": none written\n"
        }
        if let routes = report.blobRoutes, !routes.isEmpty {
            out += "\n" + style.bold("Bytes by route") + " (the downloaded blobs)\n"
            out += aligned(routes.map { (TextStyle.clean($0.vantage), "\($0.bytes) bytes") }, indent: 2)
        }
        if let history = report.history {
            out += "\n" + style.bold("History") + " (earlier agreeing runs the time rules counted)\n"
            let lines = HistoryTimeline(runs: history.runs).lines
            out += lines.isEmpty ? "  none: first seen in this run\n" : lines.map { "  " + TextStyle.clean($0) + "\n" }.joined()
        }
        if let signature = report.signature {
            out += "\n" + style.bold("Signature") + ": " + TextStyle.clean(signatureLine(signature, markdown: false)) + "\n"
        }
        return out
    }

    private static func textTable(_ matrix: ReportMatrix, style: TextStyle) -> String {
        typealias Cell = (text: String, styled: (String) -> String)
        let plain: (String) -> String = { $0 }
        let marker = style.color ? "" : "!"
        var header: [Cell] = ["vantage", "kind", "route", "status"].map { ($0, plain) }
        for column in matrix.columns {
            header.append(column.agree ? (TextStyle.clean(column.item), plain) : (marker + TextStyle.clean(column.item), style.dissent))
        }
        let rows: [[Cell]] = matrix.rows.map { row in
            var cells: [Cell] = [
                (TextStyle.clean(row.vantage.name), plain), (TextStyle.clean(row.vantage.kind), plain), (TextStyle.clean(row.vantage.route), plain),
                row.vantage.status == .ok ? ("ok", plain) : ("error", style.failure),
            ]
            for cell in row.cells {
                switch cell {
                case .failed: cells.append(("-", plain))
                case .absent(let dissent): cells.append(dissent ? (marker + "(absent)", style.dissent) : ("(absent)", plain))
                case .value(let value, let dissent):
                    let shown = TextStyle.clean(shortDigest(value))
                    cells.append(dissent ? (marker + shown, style.dissent) : (shown, plain))
                }
            }
            return cells
        }
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].text.count }.max() ?? 0 }
        return all.map { cells in
            let line = cells.enumerated().map { column, cell in
                let padding = column == cells.count - 1 ? 0 : widths[column] - cell.text.count
                return cell.styled(cell.text) + String(repeating: " ", count: max(0, padding))
            }.joined(separator: "  ")
            return "  " + line + "\n"
        }.joined()
    }

    // MARK: Markdown

    /// The report as GitHub/GitLab-flavoured Markdown: a proper table with full digests in code spans,
    /// disagreeing cells bold and marked ⚠, and every cell escaped so `|` cannot break the table.
    public static func markdown(_ report: AgreementReport) -> String {
        var out = "### 3tofu agreement report\n\n"
        for field in headerFields(report, markdown: true) {
            out += "- **\(field.label.capitalizedFirst):** \(field.value)\n"
        }
        out += "\n**Verdict: \(verdictEmoji(report.verdict)) \(report.verdict.rawValue.uppercased())** — \(MarkdownText.plain(report.reason))\n"

        let matrix = ReportMatrix(report)
        out += "\n#### Agreement\n\n"
        var header = ["Vantage", "Kind", "Route", "Status"]
        header += matrix.columns.map { $0.agree ? MarkdownText.plain($0.item) : "⚠ **\(MarkdownText.plain($0.item))**" }
        out += MarkdownText.row(header) + "\n"
        out += MarkdownText.row(header.map { _ in "---" }) + "\n"
        for row in matrix.rows {
            var cells = [
                MarkdownText.plain(row.vantage.name), MarkdownText.plain(row.vantage.kind), MarkdownText.code(row.vantage.route, inTable: true),
                row.vantage.status == .ok ? "ok" : "**error**",
            ]
            for cell in row.cells {
                switch cell {
                case .failed: cells.append("-")
                case .absent(let dissent): cells.append(dissent ? "⚠ **(absent)**" : "(absent)")
                case .value(let value, let dissent):
                    let code = MarkdownText.code(value, inTable: true)
                    cells.append(dissent ? "⚠ **\(code)**" : code)
                }
            }
            out += MarkdownText.row(cells) + "\n"
        }
        if !matrix.hiddenItems.isEmpty {
            out += "\n" + MarkdownText.plain(hiddenNote(matrix.hiddenItems)) + "\n"
        }
        if matrix.hasDissent {
            out += "\n⚠ marks a value that differs from what most answering vantages saw (every value, on a tie).\n"
        }

        out += "\n#### Evidence\n\n"
        if report.vantages.isEmpty { out += "No vantages recorded.\n" }
        for vantage in report.vantages {
            let status = vantage.status == .ok ? "ok in" : "**error** after"
            out += "- **\(MarkdownText.plain(vantage.name))** (\(MarkdownText.plain(vantage.kind)), \(MarkdownText.code(vantage.route, inTable: false))): "
                + "\(status) \(seconds(vantage.seconds))\n"
            let fields = evidenceFields(vantage, markdown: true)
            if fields.isEmpty { out += "  - no evidence recorded\n" }
            for field in fields {
                out += "  - \(field.label.capitalizedFirst): \(field.value)\n"
            }
        }

        out += "\n#### Artifact\n\n"
        if let artifact = report.artifact {
            out += "- Path: \(MarkdownText.code(artifact.path, inTable: false))\n"
            out += "- Format: \(MarkdownText.plain(artifact.format))\n"
            out += "- SHA-256: \(MarkdownText.code(artifact.sha256, inTable: false))\n"
        } else {
            out += "None written.\n"
        }
        if let routes = report.blobRoutes, !routes.isEmpty {
            out += "\n#### Bytes by route\n\n"
            for route in routes {
                out += "- \(MarkdownText.plain(route.vantage)): \(route.bytes) bytes\n"
            }
        }
        if let history = report.history {
            out += "\n#### History\n\nEarlier agreeing runs the time rules counted:\n\n"
            let lines = HistoryTimeline(runs: history.runs).lines
            out += lines.isEmpty ? "None: first seen in this run.\n" : lines.map { "- \(MarkdownText.plain($0))\n" }.joined()
        }
        if let signature = report.signature {
            out += "\n**Signature:** \(signatureLine(signature, markdown: true))\n"
        }
        return out
    }

    // MARK: Shared pieces

    /// `sha256:0123456789ab… (1234 bytes)` for `sha256:<64 hex> (1234 bytes)`; other text unchanged.
    public static func shortDigest(_ value: String) -> String {
        for algorithm in ["sha256:", "sha512:"] where value.hasPrefix(algorithm) {
            let token = value.prefix { $0 != " " }
            let hex = token.dropFirst(algorithm.count)
            guard hex.count > 12 else { return value }
            return algorithm + hex.prefix(12) + "…" + value.dropFirst(token.count)
        }
        return value
    }

    /// The first 12 characters of a hex fingerprint, then `…`.
    static func shortHex(_ hex: String) -> String {
        hex.count > 12 ? hex.prefix(12) + "…" : hex
    }

    /// Header lines; values are ready to print (escaped and code-spanned for Markdown).
    private static func headerFields(_ report: AgreementReport, markdown: Bool) -> [(label: String, value: String)] {
        let text = Inline(markdown: markdown).text
        let code = Inline(markdown: markdown).code
        var fields: [(label: String, value: String)] = [("subject", "\(report.subject.kind.rawValue) \(code(report.subject.reference))")]
        if let platform = report.subject.platform { fields.append(("platform", text(platform))) }
        fields.append(("policy", "\(text(report.policy.name)) (\(code("sha256:" + shortHex(report.policy.sha256))))"))
        fields.append(("created", text(report.createdAt)))
        fields.append(("tool", text("\(report.tool.name) \(report.tool.version)")))
        return fields
    }

    /// Evidence lines for one vantage; values are ready to print. Text shortens the TLS fingerprint,
    /// Markdown shows it whole.
    private static func evidenceFields(_ vantage: AgreementReport.VantageEntry, markdown: Bool) -> [(label: String, value: String)] {
        let text = Inline(markdown: markdown).text
        let code = Inline(markdown: markdown).code
        var fields: [(label: String, value: String)] = []
        if let error = vantage.error { fields.append(("error", text(error))) }
        guard let evidence = vantage.evidence else { return fields }
        if let ip = evidence.remoteIP { fields.append(("remote IP", code(ip))) }
        if let url = evidence.effectiveURL { fields.append(("effective URL", code(url))) }
        if evidence.urlChain.count > 1 { fields.append(("redirects", evidence.urlChain.map(code).joined(separator: " → "))) }
        if let version = evidence.httpVersion { fields.append(("HTTP version", text(version))) }
        if vantage.status != .ok, let reached = reached(evidence) { fields.append(("got as far as", text(reached))) }
        if let leaf = evidence.tlsCertificateSHA256.first {
            fields.append(("TLS leaf", markdown ? code("sha256:" + leaf) : "sha256:" + shortHex(leaf)))
        }
        if let shown = evidence.tlsCertificatesShownNotTrusted?.first {
            // Whole, so that it can be compared with what `openssl s_client` shows on the same route.
            fields.append(("TLS shown, not trusted", code("sha256:" + shown.sha256)))
            if let subject = shown.subject { fields.append(("  its subject", text(subject))) }
            if let issuer = shown.issuer { fields.append(("  its issuer", text(issuer))) }
            if shown.notBefore != nil || shown.notAfter != nil {
                fields.append(("  valid", text("\(shown.notBefore ?? "?") to \(shown.notAfter ?? "?")")))
            }
        }
        if let reason = evidence.tlsCertificatesNotRecorded { fields.append(("TLS shown, not recorded", text(reason))) }
        for key in evidence.rateLimit.keys.sorted() where key.lowercased().hasSuffix("remaining") {
            fields.append(("rate limit remaining", code(evidence.rateLimit[key] ?? "")))
        }
        return fields
    }

    /// How far a failed vantage's last exchange got, from its evidence (a timing is 0 for a step
    /// never reached; the address is the last one the transport used, a proxy's on a proxy route):
    /// what an auditor needs to tell a refused TLS handshake from a dead name.
    static func reached(_ evidence: AgreementReport.Evidence) -> String? {
        let timings = evidence.timings
        let https = evidence.effectiveURL?.hasPrefix("https://") ?? false
        if timings.firstByte > 0 { return "an HTTP answer" + (evidence.remoteIP.map { " from \($0)" } ?? "") }
        if timings.tlsHandshake > 0 { return "a TLS session" + (evidence.remoteIP.map { " with \($0)" } ?? "") + "; no HTTP answer" }
        if evidence.tlsCertificatesShownNotTrusted?.isEmpty == false {
            return "a TLS certificate" + (evidence.remoteIP.map { " from \($0)" } ?? "") + " that failed verification; no HTTP request sent"
        }
        if let address = evidence.remoteIP { return "the address \(address); " + (https ? "no TLS session, no HTTP answer" : "no HTTP answer") }
        if timings.nameLookup > 0 { return "the name's resolution; no address reached" }
        return nil
    }

    private static func aligned(_ fields: [(label: String, value: String)], indent: Int) -> String {
        let width = fields.map(\.label.count).max() ?? 0
        let prefix = String(repeating: " ", count: indent)
        return fields.map { prefix + pad($0.label, to: width) + "  " + TextStyle.clean($0.value) + "\n" }.joined()
    }

    private static func hiddenNote(_ items: [String]) -> String {
        let names = items.count > 4 ? items.prefix(3).joined(separator: ", ") + ", …, " + (items.last ?? "") : items.joined(separator: ", ")
        return "\(items.count) more agreeing item\(items.count == 1 ? "" : "s") not shown (\(names))"
    }

    private static func signatureLine(_ signature: AgreementReport.Signature, markdown: Bool) -> String {
        let key = ReportPublicKey.fingerprint(base64: signature.publicKey) ?? "(not base64: \(signature.publicKey.prefix(16)))"
        let code = Inline(markdown: markdown).code
        let algorithm = markdown ? MarkdownText.plain(signature.algorithm) : signature.algorithm
        return "signed (\(algorithm)) by key \(code(key)) (not verified here; check it with \(markdown ? "`3tofu report verify`" : "3tofu report verify"))"
    }

    private static func verdictEmoji(_ verdict: Agreement.Verdict) -> String {
        switch verdict {
        case .agree: "✅"
        case .disagree: "❌"
        case .insufficient: "⚠️"
        }
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.2f s", value)
    }

    private static func pad(_ text: String, to width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// Formats inline values for text (as they are) or Markdown (escaped text, code spans).
private struct Inline {
    var markdown: Bool
    func text(_ value: String) -> String { markdown ? MarkdownText.plain(value) : value }
    func code(_ value: String) -> String { markdown ? MarkdownText.code(value, inTable: false) : value }
}

private extension String {
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
