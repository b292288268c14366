/// What one vantage reported: the image it saw, or why it could not see one.
public struct Observation<Subject: Observable>: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case observed(Subject)
        /// No answer: the route did not work (network, timeout, refused).
        case failed(String)
        /// An answer whose bytes do not hash to the digest they were asked for: tampering on
        /// this route. It counts as dissent, never as a vantage merely unavailable.
        case tampered(String)
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

    public var isTampered: Bool {
        if case .tampered = outcome { return true }
        return false
    }
}
