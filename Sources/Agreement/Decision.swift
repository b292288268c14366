/// The outcome of comparing observations under a policy.
public struct Decision<Subject: Observable>: Sendable, Equatable {
    public typealias Verdict = Agreement.Verdict

    public var verdict: Verdict
    /// What every answering vantage saw; set only when the verdict is `agree`.
    public var agreed: Subject?
    public var comparisons: [Comparison]
    /// Vantages whose values differ from the majority on some item (all of them on a tie).
    public var dissenters: [String]
    /// The verdict and its reason in one sentence.
    public var reason: String

    public init(verdict: Verdict, agreed: Subject?, comparisons: [Comparison], dissenters: [String], reason: String) {
        self.verdict = verdict
        self.agreed = agreed
        self.comparisons = comparisons
        self.dissenters = dissenters
        self.reason = reason
    }
}

/// One compared item and what each answering vantage saw of it.
public struct Comparison: Sendable, Equatable, Codable {
    public var item: String
    public var agree: Bool
    /// Vantage name → value, for the vantages that answered.
    public var values: [String: String]

    public init(item: String, agree: Bool, values: [String: String]) {
        self.item = item
        self.agree = agree
        self.values = values
    }
}
