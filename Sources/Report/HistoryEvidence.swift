import Agreement

/// The history a run relied on: the earlier agreeing runs for its subject, as the time rules
/// counted them. `report verify` recomputes the time rules from these and the report's time.
public struct HistoryEvidence: Codable, Sendable, Equatable {
    public var runs: [TimeRules.PastRun]
    public init(runs: [TimeRules.PastRun]) {
        self.runs = runs
    }
}

extension ObservedSubject: Recordable {
    public var historyDigest: String {
        switch self {
        case .image(let image): image.historyDigest
        case .file(let file): file.historyDigest
        case .bottle(let bottle): bottle.historyDigest
        }
    }
}
