/// An error from the content store or an output writer: a stable `code` to branch on and a
/// `message` that says what went wrong, to what, and what to do next.
public struct ArtifactsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is; callers compare against the static members, so new codes
    /// can be added without breaking anyone.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case digestMismatch
            case sizeMismatch
            case missingBlob
            case blobTooLarge
            case io
            case invalidName
            case outputExists
            case notRegularFile
            case invalidImage
            case unsupported
            case unsafeCache
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Bytes hash to something other than the digest they were meant to have.
        public static let digestMismatch = Code(.digestMismatch)
        /// Bytes are longer or shorter than the size they were meant to have.
        public static let sizeMismatch = Code(.sizeMismatch)
        /// A blob the image needs is not in the content store.
        public static let missingBlob = Code(.missingBlob)
        /// A blob read into memory is larger than the limit for small blobs.
        public static let blobTooLarge = Code(.blobTooLarge)
        /// A file-system call failed.
        public static let io = Code(.io)
        /// A tar member name is empty, absolute, contains `..` or is otherwise unusable.
        public static let invalidName = Code(.invalidName)
        /// The output path holds something this writer will not overwrite.
        public static let outputExists = Code(.outputExists)
        /// The output path is a device, FIFO, socket or other non-regular file, which is never replaced.
        public static let notRegularFile = Code(.notRegularFile)
        /// The image to write is inconsistent (bad manifest JSON, unknown media type...).
        public static let invalidImage = Code(.invalidImage)
        /// A request this version cannot carry out.
        public static let unsupported = Code(.unsupported)
        /// The content store could be changed by another user (or is not a directory).
        public static let unsafeCache = Code(.unsafeCache)

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
