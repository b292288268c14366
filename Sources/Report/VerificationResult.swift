/// The outcome of `3tofu report verify`: each check that held, each that did not, and notes on
/// what could not be checked. Verification succeeds only when nothing failed.
public struct VerificationResult: Sendable, Equatable {
    public var passed: [String] = []
    public var failed: [String] = []
    public var notes: [String] = []

    public init(passed: [String] = [], failed: [String] = [], notes: [String] = []) {
        self.passed = passed
        self.failed = failed
        self.notes = notes
    }

    public var succeeded: Bool { failed.isEmpty }

    public mutating func merge(_ other: VerificationResult) {
        passed += other.passed
        failed += other.failed
        notes += other.notes
    }
}
