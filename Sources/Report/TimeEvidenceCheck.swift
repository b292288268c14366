import Agreement
import Foundation

/// `report verify` for the time rules: the decision again, from the history the report carries
/// and the time it was made. Pure.
public enum TimeEvidenceCheck {
    static func recompute(_ decision: Decision<ObservedSubject>, report: AgreementReport, policy: Policy, result: inout VerificationResult) -> Decision<ObservedSubject> {
        guard policy.timeRules.needHistory else {
            if report.history != nil { result.notes.append("the report carries a history, but its policy has no time rules") }
            return decision
        }
        guard let created = TimeRules.seconds(report.createdAt) else {
            result.failed.append("the report's createdAt '\(report.createdAt)' is not a UTC time, so its time rules cannot be recomputed")
            return decision
        }
        let history = report.history.map { TimeRules.History(runs: $0.runs, watchCommand: Self.watchCommand(report.subject), now: Date(timeIntervalSince1970: created)) }
        if let history {
            let days = Set(history.runs.compactMap { TimeRules.seconds($0.time) }.map { Int(($0 / 86_400).rounded(.down)) })
            result.notes.append("the time rules were recomputed from \(history.runs.count) earlier run\(history.runs.count == 1 ? "" : "s") on \(days.count) UTC day\(days.count == 1 ? "" : "s") that the report carries")
        }
        return TimeRules.apply(decision, history: history, policy: policy, now: Date(timeIntervalSince1970: created))
    }

    /// The command a short history's message names, as the run wrote it.
    public static func watchCommand(_ subject: AgreementReport.Subject) -> String {
        switch subject.kind {
        case .image: "3tofu watch \(subject.reference)" + (subject.platform.map { " --platform \($0)" } ?? "")
        case .file: "3tofu watch --url \(subject.reference)"
        case .bottle: "3tofu watch --brewfile FILE --tag \(subject.platform ?? "TAG")"
        }
    }
}
