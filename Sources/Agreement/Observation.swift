/// What one vantage reported: the image it saw, or why it could not see one.
public struct Observation: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case observed(ObservedImage)
        case failed(String)
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

    public var image: ObservedImage? {
        if case .observed(let image) = outcome { return image }
        return nil
    }
}
