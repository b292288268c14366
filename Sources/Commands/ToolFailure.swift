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

    public var description: String { message }
}
