import Foundation

/// Writes an image as one tar file, in either of two layouts that share everything but
/// `manifest.json` and `repositories`:
///
/// - docker-archive: the layout `docker save` uses since Docker 25: config and layers (as stored,
///   i.e. compressed) under `blobs/sha256/`, `manifest.json` naming them, a `repositories` file,
///   and `oci-layout` + `index.json`, so the same tar is also an OCI archive. `RepoTags` uses
///   Docker's familiar names for Docker Hub (`hitch:latest`) and the full name elsewhere
///   (`127.0.0.1:5000/a/b:tag`); `docker load` and `podman load` show exactly these.
/// - oci-archive: an OCI image layout as a tar (skopeo's `oci-archive:`).
///
/// In both, the `index.json` entry follows the OCI rule: a Docker schema 2 manifest is converted
/// to OCI media types, as in `OCILayoutWriter`.
public struct ArchiveWriter: Sendable {
    public let store: ContentStore
    public let format: OutputFormat

    /// `format` is `.dockerArchive` or `.ociArchive`.
    public init(store: ContentStore, format: OutputFormat) {
        self.store = store
        self.format = format
    }

    /// Writes `image` to the file `path`, replacing any file there atomically.
    @discardableResult
    public func write(_ image: ImageToWrite, to path: String) throws -> WriteResult {
        let plan = try ImageLayoutPlan(image, store: store)
        let docker = format == .dockerArchive
        let sha256 = try AtomicOutput.writeFile(at: path) { fd, temporary in
            let tar = TarWriter(fileDescriptor: fd, label: temporary)
            try LayoutTar.write(plan, to: tar, docker: docker)
            return tar.sha256Hex ?? ""
        }
        return WriteResult(
            path: path, format: docker ? .dockerArchive : .ociArchive, sha256: sha256, manifestDigestWritten: plan.manifestDigest,
            convertedFrom: plan.convertedFrom)
    }
}
