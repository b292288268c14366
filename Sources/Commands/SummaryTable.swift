import Agreement
import Coordinator

/// The terminal summary: one row per vantage, one column per compared item (the digests, and any
/// item where the vantages differ, highlighted), each failure's reason, and the verdict in one sentence.
enum SummaryTable {
    static let headlineItems: Set<String> = ["manifest", "platform manifest", "config", "layer count"]

    static func render(_ result: PullResult, color: Bool) -> String {
        let decision = result.decision
        let items = decision.comparisons.filter { headlineItems.contains($0.item) || !$0.agree }.prefix(6)
        let header = ["vantage", "route", "status"] + items.map(\.item)
        var rows: [[(text: String, dissent: Bool)]] = []
        var failures: [String] = []
        for run in result.vantages {
            var row: [(String, Bool)] = [(run.spec.name, false), (run.route, false)]
            if let failure = run.failure {
                row.append(("error", true))
                row += items.map { _ in ("-", false) }
                failures.append("\(run.spec.name): \(failure.message)")
            } else {
                row.append(("ok", false))
                row += items.map { comparison in (short(comparison.values[run.spec.name] ?? "-"), !comparison.agree) }
            }
            rows.append(row)
        }
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column].text }).map(\.count).max() ?? 0
        }
        func line(_ cells: [(text: String, dissent: Bool)]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                let padded = column == cells.count - 1 ? cell.text : cell.text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                text += color && cell.dissent ? "\u{1B}[1;31m\(padded)\u{1B}[0m" : padded
                if column < cells.count - 1 { text += "  " }
            }
            return text
        }
        var out = line(header.map { ($0, false) }) + "\n"
        for row in rows { out += line(row) + "\n" }
        for failure in failures { out += "  " + failure + "\n" }
        let verdict = decision.verdict.rawValue.uppercased()
        let shown = color ? "\u{1B}[1;\(decision.verdict == .agree ? 32 : 31)m\(verdict)\u{1B}[0m" : verdict
        out += "verdict: \(shown): \(decision.reason)\n"
        return out
    }

    /// `sha256:0123456789ab…` keeps the table readable; full digests are in --json output.
    static func short(_ value: String) -> String {
        guard value.hasPrefix("sha256:"), value.count > 19 else { return value }
        let digest = value.prefix { $0 != " " }
        return String(digest.prefix(19)) + "…" + value.dropFirst(digest.count)
    }
}
