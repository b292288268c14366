import Agreement
import Foundation

extension BottleRequest {
    /// The report subject's reference for what the vantages saw (the bottle's version tag), as
    /// `ReportBuilder` writes it and the history keys it.
    public func subjectReference(_ seen: ObservedBottle) -> String {
        "\(registry)/\(repository(for: seen.formula)):\(HomebrewNaming.imageTag(packageVersion: seen.version, rebuild: seen.rebuild))"
    }

    /// The earlier runs the time rules count for the bottle these vantages saw: a bottle's
    /// reference (its version) is known only once they have answered. Nil when none were read.
    public func history<Runs: Sequence>(for runs: Runs) -> TimeRules.History? where Runs.Element == BottleRun {
        guard let histories, let seen = runs.compactMap(\.observed).first else { return histories.map { TimeRules.History(runs: [], watchCommand: $0.watchCommand, now: $0.now) } }
        let reference = subjectReference(seen)
        return TimeRules.History(runs: histories.runs.filter { $0.reference == reference }.map(\.run), watchCommand: histories.watchCommand, now: histories.now)
    }
}

/// Every earlier agreeing bottle run for the request's tag, each with its reference: read before
/// the run, sorted out per bottle once the vantages have said which version they saw.
public struct BottleHistories: Sendable {
    public var runs: [(reference: String, run: TimeRules.PastRun)]
    public var watchCommand: String
    public var now: Date
    public init(runs: [(reference: String, run: TimeRules.PastRun)], watchCommand: String, now: Date) {
        self.runs = runs
        self.watchCommand = watchCommand
        self.now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
    }
}
