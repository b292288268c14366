/// An error from the content store or an output writer: a stable `code` to branch on and a
/// `message` that says what went wrong, to what, and what to do next.
public struct ArtifactsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem this is, to branch on; the message says the rest.
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// Bytes hash to something other than the digest they were meant to have.
        case digestMismatch
        /// Bytes are longer or shorter than the size they were meant to have.
        case sizeMismatch
        /// A blob the image needs is not in the content store.
        case missingBlob
        /// A blob read into memory is larger than the limit for small blobs.
        case blobTooLarge
        /// A file-system call failed.
        case io
        /// A tar member name is empty, absolute, contains `..` or is otherwise unusable.
        case invalidName
        /// The output path holds something this writer will not overwrite.
        case outputExists
        /// The output path is a device, FIFO, socket or other non-regular file, which is never replaced.
        case notRegularFile
        /// The image to write is inconsistent (bad manifest JSON, unknown media type...).
        case invalidImage
        /// A request this version cannot carry out.
        case unsupported
        /// The content store could be changed by another user (or is not a directory).
        case unsafeCache

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
