import Coordinator

/// An error that ends a command with one of the exit codes in DESIGN.md and a message for stderr.
public struct ToolFailure: Error, Sendable, CustomStringConvertible {
    public enum Code: Int32, Sendable {
        /// The vantages disagree; nothing written.
        case disagreement = 1
        /// Usage, configuration or bad input.
        case badInput = 2
        /// Policy not met for any other reason: too few answers, network or I/O failure.
        case notMet = 3
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The one mapping from any error to its exit code: a `ToolFailure` keeps its own, every other
    /// error gets the code of what it means for the run (`CoordinatorError(error)`).
    public init(_ error: any Error) {
        if let failure = error as? ToolFailure {
            self = failure
            return
        }
        let failure = CoordinatorError(error)
        self.init(Code(failure.kind), failure.message)
    }

    public var description: String { message }
}

extension ToolFailure.Code {
    /// The exit code of each kind of failure.
    public init(_ kind: CoordinatorError.Kind) {
        switch kind {
        case .tampering: self = .disagreement
        case .badInput: self = .badInput
        case .notMet: self = .notMet
        }
    }
}
