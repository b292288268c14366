import Agreement
import Testing

/// When no vantage answered, a reason they all share is the verdict's news; only the vantages
/// that differ from most are dissenters of an item.
@Suite struct SharedFailureTests {
    static let policy = Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0)

    static func failed(_ name: String, _ message: String) -> Observation<ObservedImage> {
        Observation(vantage: name, kind: "local", route: "direct", outcome: .failed(message))
    }

    @Test func everyVantageFailingForOneReasonSaysIt() {
        let missing = "the tag '1.2' is not there"
        let same = Agreement.decide(["a", "b", "c"].map { Self.failed($0, missing) }, policy: Self.policy)
        #expect(same.reason == "No vantage answered (a, b, c); every one says: \(missing).")
        let different = Agreement.decide([Self.failed("a", missing), Self.failed("b", "connection refused")], policy: Self.policy)
        #expect(different.reason == "No vantage answered (a, b).")
    }

    @Test func dissentersAreThoseOutsideTheLargestGroup() {
        let comparison = Comparison(item: "manifest", agree: false, values: ["a": "x", "b": "x", "c": "y"])
        #expect(comparison.dissenters(among: ["a", "b", "c"]) == ["c"])
        let tie = Comparison(item: "manifest", agree: false, values: ["a": "x", "b": "y"])
        #expect(tie.dissenters(among: ["a", "b"]) == ["a", "b"])
        #expect(Comparison(item: "m", agree: true, values: ["a": "x"]).dissenters(among: ["a"]).isEmpty)
    }
}
