import Report

/// A failure of a run (or of one vantage's part in it) and what it means: bad input, not met, or
/// tampering. Any error of the package becomes one with `CoordinatorError(error)`.
public struct CoordinatorError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The request or configuration cannot work (exit 2).
        case badInput
        /// A route, a download, a check or a write failed (exit 3).
        case notMet
        /// Bytes did not match the digest they were asked for: tampering on a route, dissent (exit 1).
        case tampering
    }

    public var kind: Kind
    public var message: String
    /// What a vantage saw before it failed (where it connected, the certificate it was shown,
    /// how far it got), for the report.
    public var evidence: AgreementReport.Evidence?

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// As a vantage's failure: the route delivered bytes that do not match the digest they were
    /// asked for, or the request (not the route) cannot work.
    public init(message: String, isBadInput: Bool, isTampering: Bool = false, evidence: AgreementReport.Evidence? = nil) {
        self.init(isTampering ? .tampering : isBadInput ? .badInput : .notMet, message)
        self.evidence = evidence
    }

    public var isBadInput: Bool { kind == .badInput }
    public var isTampering: Bool { kind == .tampering }

    public var description: String { message }
}
