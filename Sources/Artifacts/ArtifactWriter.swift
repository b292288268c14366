import Foundation

/// Writes a verified image in any `OutputFormat`: the entry points the coordinator needs.
public enum ArtifactWriter {
    /// Blocking; from async code wrap it in `BlockingIO.run`.
    @discardableResult
    public static func write(_ image: ImageToWrite, format: OutputFormat, to path: String, store: ContentStore) throws -> WriteResult {
        try stage(image, format: format, to: path, store: store).commit()
    }

    /// Refuses, before anything is downloaded, a destination `write` would refuse at the end: a
    /// missing or unwritable parent directory, a directory, device, FIFO or socket where an archive
    /// goes, or (OCI layout) a symbolic link, a file, or a directory that is neither empty nor a
    /// layout. Give the path without trailing slashes (`trimmingTrailingSlashes`). Only looks; writes nothing.
    public static func checkDestination(_ path: String, format: OutputFormat) throws {
        switch format {
        case .dockerArchive, .ociArchive:
            try checkFileDestination(path)
            return
        case .oci:
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                // The layout is built beside the path and renamed onto it: a link would be replaced.
                throw ArtifactsError(.outputExists, "\(path) is a symbolic link (to \(target)); give the directory itself")
            }
            try OCILayoutWriter.checkTarget(path)
            try AtomicOutput.checkParent(of: path)
            if FileSystem.exists(path) {
                try checkWritable(path, what: "the layout \(path)")
            }
        }
        let parent = FileSystem.directoryName(path)
        try checkWritable(parent, what: "directory \(parent)")
    }

    /// The same check for any file written whole beside its destination and renamed into place
    /// (an archive, a fetched file, a report, an attestation): not empty, not a directory, device,
    /// FIFO or socket, in an existing directory this user can write. Only looks; writes nothing.
    public static func checkFileDestination(_ path: String) throws {
        try AtomicOutput.checkFileTarget(path)
        let parent = FileSystem.directoryName(path)
        try checkWritable(parent, what: "directory \(parent)")
    }

    /// `path` less trailing slashes ("/" stays "/"): `layout/` names the directory `layout`.
    public static func trimmingTrailingSlashes(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    private static func checkWritable(_ path: String, what: String) throws {
        guard access(path, W_OK | X_OK) == 0 else {
            let reason = errno == EROFS ? "is on a read-only file system" : "is not writable by this user"
            throw ArtifactsError(.io, "cannot write there: \(what) \(reason); choose another place")
        }
    }

    /// Builds the output without putting it in place. With `layerAvailability`, it may start
    /// before the layers are in the store: each is waited for when the writer reaches it. An
    /// archive is assembled completely here; an OCI layout (hard links from the store, cheap)
    /// waits for every layer and is built by `commit()`. With `liveLayers`, an archive takes layers
    /// that are still downloading from the download itself (see `LiveLayer`). Blocking.
    package static func stage(
        _ image: ImageToWrite, format: OutputFormat, to path: String, store: ContentStore,
        layerAvailability: LayerAvailability? = nil, liveLayers: (any LiveLayerSource)? = nil
    ) throws -> StagedArtifact {
        switch format {
        case .dockerArchive, .ociArchive:
            return try ArchiveWriter(store: store, format: format).stage(
                image, to: path, layerAvailability: layerAvailability, liveLayers: liveLayers)
        case .oci:
            if let layerAvailability {
                for layer in image.layers { try layerAvailability(layer.digest, layer.size) }
            }
            let writer = OCILayoutWriter(store: store)
            return StagedArtifact(commit: { journal in try writer.write(image, to: path, journal: journal) }, discard: {})
        }
    }
}
