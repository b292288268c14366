import Agreement
import Coordinator

/// The terminal summary and exit code for runs over any subject (a file, a bottle): one row per
/// vantage, one column per headline or disagreeing item, each failure's reason, and the verdict.
enum SubjectOutcome {
    /// One vantage as the summary shows it.
    struct Row {
        var name: String
        var route: String
        var failure: VantageFailure?
    }

    static func rows<Subject>(_ runs: [SubjectRun<Subject>]) -> [Row] {
        runs.map { Row(name: $0.spec.name, route: $0.route, failure: $0.failure) }
    }

    static func render<Subject>(_ runs: [SubjectRun<Subject>], decision: Decision<Subject>, headline: Set<String>, title: String? = nil, color: Bool) -> String {
        render(rows(runs), decision: decision, headline: headline, title: title, color: color)
    }

    static func render<Subject>(_ runs: [Row], decision: Decision<Subject>, headline: Set<String>, title: String? = nil, color: Bool) -> String {
        let items = decision.comparisons.filter { headline.contains($0.item) || !$0.agree }.prefix(6)
        let header = ["vantage", "route", "status"] + items.map(\.item)
        var rows: [[(text: String, dissent: Bool)]] = []
        var failures: [String] = []
        for run in runs {
            var row: [(String, Bool)] = [(run.name, false), (run.route, false)]
            if let failure = run.failure {
                row.append((failure.isTampering ? "refused" : "error", true))
                failures.append("\(run.name): \(failure.message)")
            } else {
                row.append(("ok", false))
            }
            row += items.map { comparison in
                guard let value = comparison.values[run.name] else { return ("-", false) }
                return (SummaryTable.short(value), !comparison.agree)
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
        var out = title.map { $0 + "\n" } ?? ""
        out += line(header.map { ($0, false) }) + "\n"
        for row in rows { out += line(row) + "\n" }
        for failure in failures { out += "  " + failure + "\n" }
        let verdict = decision.verdict.rawValue.uppercased()
        let shown = color ? "\u{1B}[1;\(decision.verdict == .agree ? 32 : 31)m\(verdict)\u{1B}[0m" : verdict
        out += "verdict: \(shown): \(decision.reason)\n"
        return out
    }

    /// nil when the verdict is agree; otherwise the failure with the contract's exit code.
    static func failure<Subject>(_ runs: [SubjectRun<Subject>], decision: Decision<Subject>, policyName: String) -> ToolFailure? {
        failure(rows(runs), decision: decision, policyName: policyName)
    }

    static func failure<Subject>(_ runs: [Row], decision: Decision<Subject>, policyName: String) -> ToolFailure? {
        switch decision.verdict {
        case .agree:
            return nil
        case .disagree:
            return ToolFailure(.disagreement, "refused: \(decision.reason) Nothing was written.")
        case .insufficient:
            let failures = runs.compactMap(\.failure)
            if !failures.isEmpty, failures.count == runs.count, failures.allSatisfy(\.isBadInput) {
                return ToolFailure(.badInput, failures[0].message)
            }
            return ToolFailure(.notMet, "policy '\(policyName)' not met: \(decision.reason) Nothing was written.")
        }
    }
}
