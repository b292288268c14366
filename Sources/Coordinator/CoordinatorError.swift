/// A failure of the whole run, outside any single vantage.
public struct CoordinatorError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The request or configuration cannot work (exit 2).
        case badInput
        /// Downloading, verifying or writing failed (exit 3).
        case notMet
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
