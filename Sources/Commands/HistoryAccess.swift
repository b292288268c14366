import Agreement
import Coordinator
import Foundation
import History
import Report

/// The history as a command uses it: where it is (`--history FILE`, `$THREETOFU_HISTORY`,
/// `$XDG_STATE_HOME/3tofu/history.sqlite`) or that it is off (`--no-history`); the earlier runs
/// read before a run whose policy has time rules; the run recorded after it. A history that
/// cannot be read costs the run only when its policy needs it; one that cannot be written is a warning.
struct HistoryAccess {
    /// nil: `--no-history`.
    var path: String?

    init(common: CommonOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(history: common.history, noHistory: common.noHistory, environment: environment)
    }

    init(history: String?, noHistory: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if noHistory {
            guard history == nil else { throw ToolFailure(.badInput, "give either --history FILE or --no-history, not both") }
            path = nil
        } else if let explicit = history {
            guard !explicit.isEmpty else { throw ToolFailure(.badInput, "--history needs the path of a history file") }
            path = explicit
        } else {
            path = HistoryStore.defaultPath(environment: environment)
        }
    }

    /// Opens the history, or fails with a message that names the file and what to do.
    func open() throws -> HistoryStore {
        guard let path else { throw ToolFailure(.badInput, "this command needs the history, but --no-history was given") }
        do {
            return try HistoryStore(path: path)
        } catch let error as HistoryError {
            throw ToolFailure(error.kind == .newerSchema ? .badInput : .notMet, error.description)
        }
    }

    /// Before a run: the earlier agreeing runs for the subject when the policy has time rules; nil otherwise.
    func load(_ subject: AgreementReport.Subject, policy: Policy, now: Date = Date()) throws -> TimeRules.History? {
        guard policy.timeRules.needHistory else { return nil }
        guard path != nil else {
            throw ToolFailure(.badInput, "policy '\(policy.name)' has time rules (min_distinct_days, min_first_seen, tag_moved) and needs the history; drop --no-history or choose another policy")
        }
        do {
            let runs = try open().agreedRuns(kind: subject.kind, reference: subject.reference, platform: subject.platform)
            return TimeRules.History(runs: runs, watchCommand: TimeEvidenceCheck.watchCommand(subject), now: now)
        } catch let failure as ToolFailure {
            throw ToolFailure(failure.code, failure.message + " (policy '\(policy.name)' needs the history: nothing was verified)")
        } catch {
            throw ToolFailure(.notMet, "\(error) (policy '\(policy.name)' needs the history: nothing was verified)")
        }
    }

    /// Before a bottle run: every earlier agreeing bottle run for the tag, when the policy has time rules.
    func loadBottles(tag: String, policy: Policy, now: Date = Date()) throws -> BottleHistories? {
        guard policy.timeRules.needHistory else { return nil }
        guard path != nil else {
            throw ToolFailure(.badInput, "policy '\(policy.name)' has time rules (min_distinct_days, min_first_seen, tag_moved) and needs the history; drop --no-history or choose another policy")
        }
        do {
            let runs = try open().agreedRuns(kind: .bottle, platform: tag)
            return BottleHistories(runs: runs, watchCommand: "3tofu watch --brewfile FILE --tag \(tag)", now: now)
        } catch let failure as ToolFailure {
            throw ToolFailure(failure.code, failure.message + " (policy '\(policy.name)' needs the history: nothing was verified)")
        } catch {
            throw ToolFailure(.notMet, "\(error) (policy '\(policy.name)' needs the history: nothing was verified)")
        }
    }

    /// After a run: the report with the history it relied on, recorded. A history that cannot be
    /// written is a warning, never the artifact's loss.
    @discardableResult
    func record(_ report: AgreementReport, history: TimeRules.History?, source: String = "local") -> AgreementReport {
        var report = report
        if let history { report.history = HistoryEvidence(runs: history.runs) }
        guard path != nil else { return report }
        do {
            try open().record(report, source: source)
        } catch let failure as ToolFailure {
            Terminal.error("warning: this run was not recorded in the history: \(failure.message)")
        } catch {
            Terminal.error("warning: this run was not recorded in the history: \(error)")
        }
        return report
    }
}
