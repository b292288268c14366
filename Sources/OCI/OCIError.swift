/// An error from parsing or checking OCI values: a stable `code` to branch on and a `message`
/// that says what was wrong, where, and what to do about it.
public struct OCIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is. New codes can be added without breaking exhaustive switches,
    /// because callers compare against the static members instead of switching over an enum.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
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
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        public static let invalidReference = Code(.invalidReference)
        public static let invalidDigest = Code(.invalidDigest)
        public static let unsupportedDigestAlgorithm = Code(.unsupportedDigestAlgorithm)
        public static let invalidPlatform = Code(.invalidPlatform)
        public static let notJSON = Code(.notJSON)
        public static let invalidManifest = Code(.invalidManifest)
        public static let schema1Unsupported = Code(.schema1Unsupported)
        public static let unsupportedMediaType = Code(.unsupportedMediaType)
        public static let platformNotFound = Code(.platformNotFound)
        public static let invalidChallenge = Code(.invalidChallenge)

        public var description: String { value.rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
