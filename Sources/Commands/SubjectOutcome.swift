import Agreement
import Coordinator
import OCI

/// The terminal summary and exit code for runs over any subject (a file, a bottle): one row per
/// vantage, one column per headline or disagreeing item, each failure's reason, and the verdict.
enum SubjectOutcome {
    /// One vantage as the summary shows it.
    struct Row {
        var name: String
        var route: String
        var failure: VantageFailure?
    }

    static func rows<Subject, Payload>(_ runs: [SubjectRun<Subject, Payload>]) -> [Row] {
        runs.map { Row(name: $0.spec.name, route: $0.route, failure: $0.failure) }
    }

    static func render<Subject, Payload>(_ runs: [SubjectRun<Subject, Payload>], decision: Decision<Subject>, headline: Set<String>, title: String? = nil) -> Terminal.Styled {
        render(rows(runs), decision: decision, headline: headline, title: title)
    }

    /// The table, each failure's reason and the verdict line. Every value and message is kept to
    /// one line (text from the network cannot start a line of its own, e.g. a fake verdict), and
    /// `Terminal` sanitizes and colours it when printing.
    static func render<Subject>(_ runs: [Row], decision: Decision<Subject>, headline: Set<String>, title: String? = nil) -> Terminal.Styled {
        func cell(_ text: String) -> String { TerminalText.sanitized(text, oneLine: true) }
        let (items, left) = TableColumns.pick(decision.comparisons, headline: headline)
        // Only a dissenter's cell is marked: the value that differs from what most answering saw.
        let dissenters = items.map { comparison in
            comparison.dissenters(among: runs.filter { $0.failure == nil || comparison.values[$0.name] != nil }.map(\.name))
        }
        let header = ["vantage", "route", "status"] + items.map { cell($0.item) }
        var rows: [[(text: String, dissent: Bool)]] = []
        var failures: [String] = []
        for run in runs {
            var row: [(String, Bool)] = [(cell(run.name), false), (cell(run.route), false)]
            if let failure = run.failure {
                row.append((failure.isTampering ? "refused" : "error", true))
                failures.append("\(cell(run.name)): \(cell(failure.message))")
            } else {
                row.append(("ok", false))
            }
            row += zip(items, dissenters).map { comparison, dissenters in
                guard let value = comparison.values[run.name] else { return ("-", dissenters.contains(run.name)) }
                return (cell(SummaryTable.short(value)), dissenters.contains(run.name))
            }
            rows.append(row)
        }
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column].text }).map(\.count).max() ?? 0
        }
        var out = Terminal.Styled(title.map { cell($0) + "\n" } ?? "")
        func line(_ cells: [(text: String, dissent: Bool)]) {
            for (column, cell) in cells.enumerated() {
                let padded = column == cells.count - 1 ? cell.text : cell.text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                out.append(padded, style: cell.dissent ? .alarm : nil)
                if column < cells.count - 1 { out.append("  ") }
            }
            out.append("\n")
        }
        line(header.map { ($0, false) })
        for row in rows { line(row) }
        if !left.isEmpty {
            out.append(cell(TableColumns.note(left)) + "\n")
        }
        for failure in failures { out.append("  " + failure + "\n") }
        out.append("verdict: ")
        out.append(decision.verdict.rawValue.uppercased(), style: decision.verdict == .agree ? .fine : .alarm)
        out.append(": \(cell(decision.reason))\n")
        return out
    }

    /// nil when the verdict is agree; otherwise the failure with the contract's exit code.
    static func failure<Subject, Payload>(_ runs: [SubjectRun<Subject, Payload>], decision: Decision<Subject>, policyName: String) -> ToolFailure? {
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
