/// What one vantage reported: the image it saw, or why it could not see one.
public struct Observation<Subject: Observable>: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case observed(Subject)
        /// No answer: the route did not work (network, timeout, refused).
        case failed(String)
        /// An answer whose bytes do not hash to the digest they were asked for: tampering on
        /// this route. It counts as dissent, never as a vantage merely unavailable.
        case tampered(String)
        /// An answer that contradicts itself (a checksum file naming other bytes than those
        /// received, an index annotation naming another layer): what the vantage saw is kept and
        /// shown in the comparisons, but like tampering it counts as dissent.
        case contradicted(Subject, String)
    }

    public var vantage: String
    /// The vantage's kind as configured: "local", "proxy", "ssh".
    public var kind: String
    /// How it reached the network, e.g. "direct" or "socks5h://127.0.0.1:9050".
    public var route: String
    public var outcome: Outcome

    public init(vantage: String, kind: String, route: String, outcome: Outcome) {
        self.vantage = vantage
        self.kind = kind
        self.route = route
        self.outcome = outcome
    }

    /// What this vantage saw, when it answered.
    public var observed: Subject? {
        if case .observed(let subject) = outcome { return subject }
        return nil
    }

    /// What this vantage saw, also when it contradicted itself: what the comparisons show.
    public var seen: Subject? {
        switch outcome {
        case .observed(let subject), .contradicted(let subject, _): subject
        case .failed, .tampered: nil
        }
    }

    /// Why this vantage's answer counts as dissent on its own (tampering or a contradiction); nil otherwise.
    public var refusal: String? {
        switch outcome {
        case .tampered(let message), .contradicted(_, let message): message
        case .observed, .failed: nil
        }
    }

    /// True when the answer counts as dissent on its own: tampered, or contradicting itself.
    public var isTampered: Bool { refusal != nil }
}
