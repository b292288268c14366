import Foundation

/// Time as a vantage: the policy's rules over the history of earlier runs, and the one pure
/// function that applies them to a decision. No clock, no I/O: `now` and the history are given.
public struct TimeRules: Sendable, Equatable, Codable {
    public enum TagMoved: String, Sendable, Equatable, Codable, CaseIterable {
        case allow, warn, refuse
    }

    /// The agreed digest was seen, in agreeing runs, on at least this many distinct UTC days (this run included); 0: no rule.
    public var minDistinctDays: Int
    /// The agreed digest was first seen (in an agreeing run) at least this many seconds ago; 0: no rule.
    public var minFirstSeenSeconds: Int
    /// What to do when the subject pointed at another agreed digest within `window(for:)`.
    public var tagMoved: TagMoved

    public init(minDistinctDays: Int = 0, minFirstSeenSeconds: Int = 0, tagMoved: TagMoved = .allow) {
        self.minDistinctDays = minDistinctDays
        self.minFirstSeenSeconds = minFirstSeenSeconds
        self.tagMoved = tagMoved
    }

    /// True when a decision depends on the history: some rule is set.
    public var needHistory: Bool { minDistinctDays > 0 || minFirstSeenSeconds > 0 || tagMoved != .allow }

    /// How far back a move of the tag counts: 30 days, or longer when the other rules look further back.
    public var movedWindowSeconds: Int {
        max(30 * 86_400, minFirstSeenSeconds, minDistinctDays * 86_400)
    }

    /// One earlier run that the vantages agreed on: what the time rules count.
    public struct PastRun: Sendable, Equatable, Codable {
        /// UTC, ISO 8601 with seconds, as reports write it.
        public var time: String
        /// The digest the vantages agreed on (image: the tag's manifest or index; file: its sha256; bottle: its layer).
        public var digest: String
        /// The vantages that agreed.
        public var vantages: [String]
        /// Where the run was made: "local", or "import: <key fingerprint>" for a report from another machine.
        public var source: String

        public init(time: String, digest: String, vantages: [String], source: String) {
            self.time = time
            self.digest = digest
            self.vantages = vantages
            self.source = source
        }
    }

    /// What a run knows of the past when it decides: the earlier agreeing runs for its subject,
    /// and the command that records more of them (named in the message when the history is short).
    public struct History: Sendable, Equatable {
        public var runs: [PastRun]
        public var watchCommand: String
        /// The time the run decides at (whole seconds), also its report's `createdAt`.
        public var now: Date
        public init(runs: [PastRun], watchCommand: String, now: Date) {
            self.runs = runs
            self.watchCommand = watchCommand
            self.now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        }
    }

    /// `apply` at the time the history was read (the run's time), or now when there is none.
    public static func apply<Subject: Recordable>(_ decision: Decision<Subject>, history: History?, policy: Policy) -> Decision<Subject> {
        apply(decision, history: history, policy: policy, now: history?.now ?? Date())
    }

    /// The decision once the time rules have had their say. Only an `agree` can change: to
    /// `insufficient` when the history is too short or too young, to `disagree` when the tag moved
    /// under `tag_moved = "refuse"`; under "warn" a move is added to the reason. `history` nil:
    /// none could be read (`--no-history`), which a policy with time rules cannot accept.
    public static func apply<Subject: Recordable>(_ decision: Decision<Subject>, history: History?, policy: Policy, now: Date) -> Decision<Subject> {
        let rules = policy.timeRules
        guard rules.needHistory, decision.verdict == .agree, let agreed = decision.agreed else { return decision }
        func refuse(_ verdict: Agreement.Verdict, _ reason: String) -> Decision<Subject> {
            Decision(verdict: verdict, agreed: nil, comparisons: decision.comparisons, dissenters: [], reason: reason)
        }
        guard let history else {
            return refuse(.insufficient, "Policy '\(policy.name)' has time rules, but no history of earlier runs was available; run without --no-history.")
        }
        let digest = agreed.historyDigest
        let nowSeconds = now.timeIntervalSince1970.rounded(.down)
        let past = history.runs.compactMap { run in Self.seconds(run.time).map { (run, $0) } }.filter { $0.1 <= nowSeconds }
        let same = past.filter { $0.0.digest == digest }
        let firstSeen = (same.map(\.1) + [nowSeconds]).min() ?? nowSeconds
        let days = Set((same.map(\.1) + [nowSeconds]).map(day))

        // A tag re-pointed within the window: another digest agreed on recently.
        let windowStart = nowSeconds - Double(rules.movedWindowSeconds)
        let others = past.filter { $0.0.digest != digest && $0.1 >= windowStart }
        var warning = ""
        if rules.tagMoved != .allow, let latest = others.max(by: { $0.1 < $1.1 }) {
            let move =
                "the subject pointed at another agreed digest, \(latest.0.digest) (last seen \(latest.0.time) by \(latest.0.vantages.joined(separator: ", "))), "
                + "within the \(rules.movedWindowSeconds / 86_400) days before this run, and now at \(digest)"
            if rules.tagMoved == .refuse {
                return refuse(.disagree, "Policy '\(policy.name)' refuses a moved tag: \(move). Check why it moved (`3tofu history`) before trusting it.")
            }
            warning = " Warning: \(move)."
        }

        var missing: [String] = []
        if rules.minDistinctDays > 0, days.count < rules.minDistinctDays {
            let needed = rules.minDistinctDays - days.count
            missing.append(
                "it was seen on \(days.count) distinct UTC day\(days.count == 1 ? "" : "s") (this run included) and the policy needs \(rules.minDistinctDays): "
                    + "\(needed) more day\(needed == 1 ? "" : "s") needed, the earliest on \(dayString(Double((days.max() ?? 0) + needed) * 86_400))")
        }
        if rules.minFirstSeenSeconds > 0, nowSeconds - firstSeen < Double(rules.minFirstSeenSeconds) {
            missing.append(
                "it must have been first seen at least \(duration(rules.minFirstSeenSeconds)) ago: wait until \(timestamp(firstSeen + Double(rules.minFirstSeenSeconds)))")
        }
        if !missing.isEmpty {
            let first = same.isEmpty ? "first seen now (\(timestamp(nowSeconds)))" : "first seen \(timestamp(firstSeen))"
            return refuse(
                .insufficient,
                "Policy '\(policy.name)' needs more history for \(digest), \(first): " + missing.joined(separator: "; ")
                    + ". Record it on more days with `\(history.watchCommand)` (e.g. daily from examples/3tofu-watch.timer), then run again.")
        }
        var result = decision
        if rules.minDistinctDays > 0 || rules.minFirstSeenSeconds > 0 {
            result.reason += " Seen on \(days.count) distinct UTC day\(days.count == 1 ? "" : "s") since \(timestamp(firstSeen))."
        }
        result.reason += warning
        return result
    }

    /// The UTC day number of a time in seconds since 1970.
    static func day(_ seconds: Double) -> Int { Int((seconds / 86_400).rounded(.down)) }

    /// Seconds since 1970 of a report timestamp ("2026-11-23T10:00:00Z"); nil when it is not one.
    public static func seconds(_ timestamp: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: timestamp)?.timeIntervalSince1970
    }

    static func timestamp(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func dayString(_ seconds: Double) -> String { String(timestamp(seconds).prefix(10)) }

    /// "72h", "3d", "90m", "45s" as a policy writes them.
    public static func duration(_ seconds: Int) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }

    /// Parses "72h", "3d", "90m", "45s" (a whole number and one unit); nil otherwise.
    public static func parseDuration(_ text: String) -> Int? {
        guard let unit = text.last, let multiplier = ["s": 1, "m": 60, "h": 3_600, "d": 86_400][unit] else { return nil }
        let digits = text.dropLast()
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), digits.count <= 6, let number = Int(digits) else { return nil }
        return number * multiplier
    }
}

/// A subject whose agreed value the history records and compares across runs.
public protocol Recordable: Observable {
    /// The digest the time rules count: what the tag (or URL, or formula) pointed at.
    var historyDigest: String { get }
}

extension ObservedImage: Recordable {
    public var historyDigest: String { topDigest }
}

extension ObservedFile: Recordable {
    public var historyDigest: String { sha256 }
}

extension ObservedBottle: Recordable {
    public var historyDigest: String { layerDigest }
}

extension Policy {
    /// This policy with `rules` as its time rules.
    public func with(_ rules: TimeRules) -> Policy {
        var policy = self
        policy.timeRules = rules
        return policy
    }
}
