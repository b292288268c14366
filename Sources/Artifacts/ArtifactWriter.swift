/// Writes a verified image in any `OutputFormat`: the one entry point the coordinator needs.
public enum ArtifactWriter {
    /// Blocking; from async code wrap it in `BlockingIO.run`.
    @discardableResult
    public static func write(_ image: ImageToWrite, format: OutputFormat, to path: String, store: ContentStore) throws -> WriteResult {
        switch format {
        case .dockerArchive, .ociArchive: try ArchiveWriter(store: store, format: format).write(image, to: path)
        case .oci: try OCILayoutWriter(store: store).write(image, to: path)
        }
    }
}
