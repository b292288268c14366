import Foundation

/// Writes an OCI image layout as a tar (skopeo's `oci-archive:`). A Docker schema 2 manifest is
/// converted to OCI media types, as in `OCILayoutWriter`.
public struct OCIArchiveWriter: Sendable {
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
            try LayoutTar.write(plan, to: tar, docker: false)
            return tar.sha256Hex ?? ""
        }
        return WriteResult(
            path: path, format: .ociArchive, sha256: sha256, manifestDigestWritten: plan.manifestDigest, convertedFrom: plan.convertedFrom)
    }
}
