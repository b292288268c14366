/// An error from parsing or checking OCI values: a stable `code` to branch on and a `message`
/// that says what was wrong, where, and what to do about it.
public struct OCIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is, to branch on; the message says the rest.
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        case invalidReference
        case invalidDigest
        case unsupportedDigestAlgorithm
        case invalidPlatform
        case notJSON
        case invalidManifest
        case schema1Unsupported
        case unsupportedMediaType
        case platformNotFound
        case invalidChallenge

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
