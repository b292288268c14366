import Agreement
import Foundation
import Testing

/// The time rules as a table: given the earlier agreeing runs, the policy and now, how the decision changes.
@Suite struct TimeRulesTests {
    static let digestA = "sha256:" + String(repeating: "a", count: 64)
    static let digestB = "sha256:" + String(repeating: "b", count: 64)
    /// 2026-11-03T10:00:00Z
    static let now = Date(timeIntervalSince1970: 1_793_700_000)

    static func image(_ digest: String) -> ObservedImage {
        ObservedImage(topDigest: digest, topMediaType: "application/vnd.oci.image.manifest.v1+json", platformManifestDigest: nil, configDigest: digest, layers: [])
    }

    static func agreed(_ digest: String = digestA) -> Decision<ObservedImage> {
        Decision(verdict: .agree, agreed: image(digest), comparisons: [], dissenters: [], reason: "All 3 answering vantages agree.")
    }

    static func run(_ time: String, _ digest: String = digestA) -> TimeRules.PastRun {
        TimeRules.PastRun(time: time, digest: digest, vantages: ["a", "b", "c"], source: "local")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: TimeRules
        var runs: [TimeRules.PastRun]?
        var decision: Decision<ObservedImage> = TimeRulesTests.agreed()
        var verdict: Agreement.Verdict
        /// Words the reason must hold.
        var says: [String] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no time rule: the history is not even needed", rules: TimeRules(), runs: nil, verdict: .agree),
        Case(
            name: "three days with two earlier days", rules: TimeRules(minDistinctDays: 3),
            runs: [run("2026-11-01T09:00:00Z"), run("2026-11-02T23:59:59Z")], verdict: .agree, says: ["Seen on 3 distinct UTC days since 2026-11-01T09:00:00Z"]),
        Case(
            name: "two days are short of three: when first seen, how many days, how to get them", rules: TimeRules(minDistinctDays: 3),
            runs: [run("2026-11-02T08:00:00Z")], verdict: .insufficient,
            says: ["first seen 2026-11-02T08:00:00Z", "seen on 2 distinct UTC days", "1 more day needed", "2026-11-04", "`3tofu watch x`"]),
        Case(
            name: "two runs on one day count once", rules: TimeRules(minDistinctDays: 2),
            runs: [run("2026-11-03T01:00:00Z"), run("2026-11-03T02:00:00Z")], verdict: .insufficient, says: ["seen on 1 distinct UTC day "]),
        Case(
            name: "days of another digest do not count", rules: TimeRules(minDistinctDays: 2),
            runs: [run("2026-11-01T01:00:00Z", digestB), run("2026-11-02T01:00:00Z", digestB)], verdict: .insufficient, says: ["first seen now"]),
        Case(
            name: "a run from the future does not count", rules: TimeRules(minDistinctDays: 2),
            runs: [run("2026-11-05T01:00:00Z")], verdict: .insufficient),
        Case(name: "first seen long enough ago", rules: TimeRules(minFirstSeenSeconds: 72 * 3600), runs: [run("2026-10-31T10:00:00Z")], verdict: .agree),
        Case(
            name: "first seen too recently: when to come back", rules: TimeRules(minFirstSeenSeconds: 72 * 3600), runs: [run("2026-11-01T10:00:01Z")],
            verdict: .insufficient, says: ["at least 3d ago", "wait until 2026-11-04T10:00:01Z"]),
        Case(
            name: "moved tag refused", rules: TimeRules(tagMoved: .refuse),
            runs: [run("2026-11-01T10:00:00Z", digestB), run("2026-11-02T10:00:00Z")], verdict: .disagree, says: ["refuses a moved tag", digestB]),
        Case(
            name: "moved tag warned, still agreed", rules: TimeRules(tagMoved: .warn), runs: [run("2026-11-01T10:00:00Z", digestB)], verdict: .agree,
            says: ["Warning:", digestB]),
        Case(name: "moved tag allowed", rules: TimeRules(minDistinctDays: 1, tagMoved: .allow), runs: [run("2026-11-01T10:00:00Z", digestB)], verdict: .agree),
        Case(
            name: "a move older than the window is not a move", rules: TimeRules(tagMoved: .refuse), runs: [run("2026-09-01T10:00:00Z", digestB)], verdict: .agree),
        Case(
            name: "a disagreement stays a disagreement", rules: TimeRules(minDistinctDays: 1), runs: [],
            decision: Decision(verdict: .disagree, agreed: nil, comparisons: [], dissenters: ["b"], reason: "They disagree."), verdict: .disagree,
            says: ["They disagree."]),
        Case(name: "no history available under time rules", rules: TimeRules(minDistinctDays: 1), runs: nil, verdict: .insufficient, says: ["--no-history"]),
    ]

    @Test(arguments: cases)
    func timeRulesDecide(_ entry: Case) {
        let policy = Policy(name: "p", description: "", minAgreeing: 1, maxUnavailable: 0).with(entry.rules)
        let history = entry.runs.map { TimeRules.History(runs: $0, watchCommand: "3tofu watch x", now: Self.now) }
        let decision = TimeRules.apply(entry.decision, history: history, policy: policy, now: Self.now)
        #expect(decision.verdict == entry.verdict, "\(decision.reason)")
        #expect((decision.agreed != nil) == (decision.verdict == .agree))
        for words in entry.says {
            #expect(decision.reason.contains(words), "\(decision.reason)")
        }
    }

    @Test(arguments: [("72h", 259_200), ("3d", 259_200), ("90m", 5_400), ("45s", 45)])
    func durationsParse(_ text: String, _ seconds: Int) {
        #expect(TimeRules.parseDuration(text) == seconds)
    }

    @Test(arguments: ["", "h", "72", "-72h", "72 h", "3w", "1.5d", "٣d", "9999999d"])
    func badDurationsDoNot(_ text: String) {
        #expect(TimeRules.parseDuration(text) == nil)
    }
}
