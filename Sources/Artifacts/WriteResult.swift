import OCI

/// What a writer produced: where, in which format, the output's SHA-256, and which manifest it
/// holds (a Docker schema 2 manifest written as OCI is converted, and the original recorded).
public struct WriteResult: Sendable, Equatable {
    public var path: String
    public var format: OutputFormat
    /// Hex SHA-256 of the output file, or of `index.json` for an OCI layout directory.
    public var sha256: String
    /// The digest of the manifest the output's `index.json` points at.
    public var manifestDigestWritten: Digest
    /// The verified Docker manifest's digest when `manifestDigestWritten` is its OCI conversion.
    public var convertedFrom: Digest?
    /// Layers an archive took straight from their downloads (`LiveLayer`) rather than from the store.
    public var layersTakenLive: Int

    public init(
        path: String, format: OutputFormat, sha256: String, manifestDigestWritten: Digest, convertedFrom: Digest?, layersTakenLive: Int = 0
    ) {
        self.path = path
        self.format = format
        self.sha256 = sha256
        self.manifestDigestWritten = manifestDigestWritten
        self.convertedFrom = convertedFrom
        self.layersTakenLive = layersTakenLive
    }
}
