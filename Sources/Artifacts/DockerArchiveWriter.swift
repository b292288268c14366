import Foundation

/// Writes a docker-archive tar in the layout `docker save` uses since Docker 25: config and
/// layers (as stored, i.e. compressed) under `blobs/sha256/`, `manifest.json` naming them, a
/// `repositories` file, and `oci-layout` + `index.json`, so the same tar is also an OCI archive.
///
/// `RepoTags` uses Docker's familiar names for Docker Hub (`hitch:latest`) and the full name
/// elsewhere (`127.0.0.1:5000/a/b:tag`); `docker load` and `podman load` show exactly these.
/// The `index.json` entry follows the OCI rule: a Docker schema 2 manifest is converted.
public struct DockerArchiveWriter: Sendable {
    public let store: ContentStore

    public init(store: ContentStore) {
        self.store = store
    }

    /// Writes `image` to the file `path`, replacing any file there atomically.
    @discardableResult
    public func write(_ image: ImageToWrite, to path: String) throws -> WriteResult {
        let plan = try ImageLayoutPlan(image, store: store)
        let sha256 = try AtomicOutput.writeFile(at: path) { fd, temporary in
            let tar = TarWriter(fileDescriptor: fd, label: temporary)
            try LayoutTar.write(plan, to: tar, docker: true)
            return tar.sha256Hex ?? ""
        }
        return WriteResult(
            path: path, format: .dockerArchive, sha256: sha256, manifestDigestWritten: plan.manifestDigest, convertedFrom: plan.convertedFrom)
    }
}
