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
        try stage(image, to: path).commit()
    }

    /// Builds the whole archive at a temporary sibling of `path`; `commit()` renames it into
    /// place. With `layerAvailability`, layers still downloading are waited for one by one.
    /// With `liveLayers` as well, a layer whose download is streamed to the writer is taken from
    /// memory as it arrives instead of being read back from the store; if such a download is
    /// abandoned part-way, the archive is written again from the start, from the store alone.
    package func stage(
        _ image: ImageToWrite, to path: String, layerAvailability: LayerAvailability? = nil, liveLayers: (any LiveLayerSource)? = nil
    ) throws -> StagedArtifact {
        var plan = try ImageLayoutPlan(image, store: store, layerAvailability: layerAvailability)
        plan.liveLayers = layerAvailability == nil ? nil : liveLayers
        let docker = format == .dockerArchive
        let staged = try AtomicOutput.stageFile(at: path) { fd, temporary in
            let tar = TarWriter(fileDescriptor: fd, label: temporary)
            do {
                let takenLive = try LayoutTar.write(plan, to: tar, docker: docker)
                return (sha256: tar.sha256Hex ?? "", takenLive: takenLive)
            } catch is LiveLayerAbandoned {
                // Nothing is taken live from here on: no download may wait for this writer.
                plan.liveLayers?.stopTakingLive()
                tar.abandon()
                try FileSystem.truncate(fd, path: temporary)
                var fromStore = plan
                fromStore.liveLayers = nil
                let again = TarWriter(fileDescriptor: fd, label: temporary)
                try LayoutTar.write(fromStore, to: again, docker: docker)
                return (sha256: again.sha256Hex ?? "", takenLive: 0)
            }
        }
        let result = WriteResult(
            path: path, format: docker ? .dockerArchive : .ociArchive, sha256: staged.value.sha256, manifestDigestWritten: plan.manifestDigest,
            convertedFrom: plan.convertedFrom, layersTakenLive: staged.value.takenLive)
        let temporary = staged.temporary
        return StagedArtifact(
            commit: { journal in
                try AtomicOutput.commitFile(temporary, to: path, journal: journal)
                return result
            },
            discard: { AtomicOutput.discardFile(temporary) })
    }
}
