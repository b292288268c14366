import Agreement
import OCI
import Foundation

/// The report as one self-contained HTML page (inline CSS, no scripts, no external resources):
/// the verdict, the agreement matrix with dissenting values highlighted, each vantage's evidence,
/// the artifact and the signature. Every value from the report is HTML-escaped.
public enum ReportHTML {
    public static func render(_ report: AgreementReport) -> String {
        let matrix = ReportMatrix(report)
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>3tofu report: \(escape(report.subject.reference))</title>
            <style>\(css)</style></head><body>
            <h1>3tofu agreement report</h1>
            <dl class="header">
            """
        var header: [(String, String)] = [("Subject", "\(report.subject.kind.rawValue) <code>\(escape(report.subject.reference))</code>")]
        if let platform = report.subject.platform { header.append(("Platform", escape(platform))) }
        var policy = "\(escape(report.policy.name)) <code>sha256:\(escape(report.policy.sha256))</code>"
        if let minimum = report.policy.minAgreeing, let unavailable = report.policy.maxUnavailable {
            policy += " — at least \(minimum) agreeing, at most \(unavailable) unavailable"
            if let kinds = report.policy.requireRouteKinds, !kinds.isEmpty { policy += ", route kinds " + escape(kinds.joined(separator: ", ")) }
        }
        header.append(("Policy", policy))
        header.append(("Created", escape(report.createdAt)))
        header.append(("Tool", escape("\(report.tool.name) \(report.tool.version)")))
        for (label, value) in header { out += "<dt>\(label)</dt><dd>\(value)</dd>\n" }
        out += "</dl>\n"
        out += "<p class=\"verdict \(report.verdict.rawValue)\"><strong>\(report.verdict.rawValue.uppercased())</strong> — \(escape(report.reason))</p>\n"

        out += "<h2>Agreement</h2>\n<div class=\"scroll\"><table class=\"matrix\"><thead><tr><th>Vantage</th><th>Kind</th><th>Route</th><th>Status</th>"
        for column in matrix.columns {
            out += column.agree ? "<th>\(escape(column.item))</th>" : "<th class=\"dissent\">⚠ \(escape(column.item))</th>"
        }
        out += "</tr></thead><tbody>\n"
        for row in matrix.rows {
            let vantage = row.vantage
            out += "<tr><td>\(escape(vantage.name))</td><td>\(escape(vantage.kind))</td><td><code>\(escape(vantage.route))</code></td>"
            out += vantage.status == .ok ? "<td class=\"ok\">ok</td>" : "<td class=\"failed\">\(escape(vantage.status.rawValue))</td>"
            for cell in row.cells {
                switch cell {
                case .failed: out += "<td class=\"none\">–</td>"
                case .absent(let dissent): out += dissent ? "<td class=\"dissent\">(absent)</td>" : "<td>(absent)</td>"
                case .value(let value, let dissent):
                    out += "<td\(dissent ? " class=\"dissent\"" : "") title=\"\(escape(value))\"><code>\(escape(ReportRenderer.shortDigest(value)))</code></td>"
                }
            }
            out += "</tr>\n"
        }
        out += "</tbody></table></div>\n"
        if !matrix.hiddenItems.isEmpty {
            out += "<p class=\"note\">\(matrix.hiddenItems.count) more agreeing items not shown: \(escape(matrix.hiddenItems.joined(separator: ", "))).</p>\n"
        }
        if matrix.hasDissent {
            out += "<p class=\"note\"><span class=\"dissent\">Highlighted</span> values differ from what most answering vantages saw (every value, on a tie).</p>\n"
        }

        out += "<h2>Evidence</h2>\n"
        for vantage in report.vantages {
            out += "<section class=\"vantage\"><h3>\(escape(vantage.name)) <small>\(escape(vantage.kind)), <code>\(escape(vantage.route))</code>, "
            out += "\(escape(vantage.status.rawValue)) in \(String(format: "%.2f", vantage.seconds)) s</small></h3><dl>\n"
            if let error = vantage.error { out += "<dt>Error</dt><dd class=\"failed\">\(escape(error))</dd>\n" }
            if let evidence = vantage.evidence {
                if let ip = evidence.remoteIP { out += "<dt>Remote IP</dt><dd><code>\(escape(ip))</code></dd>\n" }
                if !evidence.urlChain.isEmpty {
                    out += "<dt>URLs</dt><dd>" + evidence.urlChain.map { "<code>\(escape($0))</code>" }.joined(separator: " → ") + "</dd>\n"
                }
                if let version = evidence.httpVersion { out += "<dt>HTTP version</dt><dd>\(escape(version))</dd>\n" }
                if vantage.status != .ok, let reached = ReportRenderer.reached(evidence) { out += "<dt>Got as far as</dt><dd>\(escape(reached))</dd>\n" }
                if !evidence.tlsCertificateSHA256.isEmpty {
                    out += "<dt>TLS certificates (SHA-256, leaf first)</dt><dd>"
                        + evidence.tlsCertificateSHA256.map { "<code>\(escape($0))</code>" }.joined(separator: "<br>") + "</dd>\n"
                }
                for shown in evidence.tlsCertificatesShownNotTrusted ?? [] {
                    out += "<dt>TLS certificate shown, not trusted</dt><dd class=\"failed\"><code>\(escape(shown.sha256))</code>"
                        + [shown.subject.map { "subject " + escape($0) }, shown.issuer.map { "issuer " + escape($0) },
                           shown.notAfter.map { "valid " + escape(shown.notBefore ?? "?") + " to " + escape($0) }]
                        .compactMap { $0 }.map { "<br>" + $0 }.joined() + "</dd>\n"
                }
                if let reason = evidence.tlsCertificatesNotRecorded {
                    out += "<dt>TLS certificate shown, not recorded</dt><dd class=\"failed\">\(escape(reason))</dd>\n"
                }
                if let digest = evidence.dockerContentDigest { out += "<dt>Docker-Content-Digest</dt><dd><code>\(escape(digest))</code></dd>\n" }
                let timings = evidence.timings
                out += "<dt>Timings (s)</dt><dd>DNS \(format(timings.nameLookup)), connect \(format(timings.connect)), TLS \(format(timings.tlsHandshake)), first byte \(format(timings.firstByte)), total \(format(timings.total))</dd>\n"
                for key in evidence.rateLimit.keys.sorted() {
                    out += "<dt>\(escape(key))</dt><dd><code>\(escape(evidence.rateLimit[key] ?? ""))</code></dd>\n"
                }
            }
            out += "</dl></section>\n"
        }

        out += "<h2>Artifact</h2>\n"
        if let artifact = report.artifact {
            out += "<dl><dt>Path</dt><dd><code>\(escape(artifact.path))</code></dd><dt>Format</dt><dd>\(escape(artifact.format))</dd>"
            out += "<dt>SHA-256</dt><dd><code>\(escape(artifact.sha256))</code></dd>"
            if let manifest = artifact.manifestDigest { out += "<dt>Manifest</dt><dd><code>\(escape(manifest))</code></dd>" }
            if let original = artifact.convertedFrom { out += "<dt>Converted from</dt><dd><code>\(escape(original))</code></dd>" }
            out += "</dl>\n"
        } else {
            out += "<p>None written.</p>\n"
        }
        if let routes = report.blobRoutes, !routes.isEmpty {
            out += "<h2>Bytes by route</h2>\n<dl>"
            for route in routes { out += "<dt>\(escape(route.vantage))</dt><dd>\(route.bytes) bytes</dd>" }
            out += "</dl>\n"
        }
        if let history = report.history {
            out += "<h2>History</h2>\n<p>Earlier agreeing runs the time rules counted:</p>\n<ul>\n"
            let lines = HistoryTimeline(runs: history.runs).lines
            out += lines.isEmpty ? "<li>none: first seen in this run</li>\n" : lines.map { "<li>\(escape($0))</li>\n" }.joined()
            out += "</ul>\n"
        }
        if let signature = report.signature {
            out += "<h2>Signature</h2>\n<p>\(escape(signature.algorithm)) by key <code>\(escape(ReportPublicKey.fingerprint(base64: signature.publicKey) ?? "(not base64: \(signature.publicKey.prefix(16)))"))</code> — "
            out += "not verified by this page; check it with <code>3tofu report verify --key KEY.pub</code>.</p>\n"
        }
        out += "</body></html>\n"
        return out
    }

    /// Escapes text for HTML element content and double- or single-quoted attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if TerminalText.needsEscape(scalar) {
                    out += "&#xFFFD;"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func format(_ value: Double) -> String { String(format: "%.3f", value) }

    private static let css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;background:#fff;max-width:90rem}\
        h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin:.2rem 0}\
        code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.85em;white-space:nowrap}\
        dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2rem 1rem;margin:.5rem 0}dt{font-weight:600}dd{margin:0;overflow-x:auto}\
        .scroll{overflow-x:auto}\
        .verdict{padding:.6rem 1rem;border-radius:6px;font-size:1.05rem}.verdict.agree{background:#dafbe1;border:1px solid #2da44e}\
        .verdict.disagree{background:#ffebe9;border:1px solid #cf222e}.verdict.insufficient{background:#fff8c5;border:1px solid #bf8700}\
        table.matrix{border-collapse:collapse;margin:.5rem 0}table.matrix th,table.matrix td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}\
        table.matrix th{background:#f6f8fa}.dissent{background:#ffebe9;color:#a40e26;font-weight:700}.ok{color:#1a7f37}\
        .failed{color:#cf222e;font-weight:600}.none{color:#8c959f}.note{color:#57606a;font-size:.9rem}\
        section.vantage{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}small{font-weight:400;color:#57606a}
        """
}
