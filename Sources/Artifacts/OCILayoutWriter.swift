import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes an OCI image layout directory (skopeo `oci:DIR:TAG`, `umoci --layout DIR`):
/// `oci-layout`, `index.json` (the manifest annotated with `org.opencontainers.image.ref.name` =
/// tag and `io.containerd.image.name` = full name) and `blobs/`. Layers are hard-linked from the
/// content store when it is on the same file system, else copied.
///
/// OCI manifests are written byte for byte. A Docker schema 2 manifest is converted to OCI media
/// types (blobs unchanged) and the conversion is stored as a new blob; `WriteResult` records both.
///
/// A new path, or an empty directory, gets a fresh layout built beside it and renamed into place.
/// An existing OCI layout gets the image added (same tag replaced, `index.json` swapped
/// atomically). Any other existing path is refused.
public struct OCILayoutWriter: Sendable {
    public let store: ContentStore

    public init(store: ContentStore) {
        self.store = store
    }

    /// With `journal`, the layout (or the blobs and `index.json` added to one) can be taken back
    /// until the run keeps it.
    @discardableResult
    public func write(_ image: ImageToWrite, to path: String, journal: CommitJournal? = nil) throws -> WriteResult {
        try Self.checkTarget(path)
        let plan = try ImageLayoutPlan(image, store: store)
        let indexSHA256: String
        if !FileSystem.exists(path) || Self.isEmptyDirectory(path) {
            indexSHA256 = try AtomicOutput.writeDirectory(at: path, journal: journal) { directory in
                try FileSystem.writeNewFile("\(directory)/oci-layout", ImageLayoutPlan.ociLayoutJSON)
                for blob in plan.blobs {
                    try FileSystem.makeDirectories("\(directory)/blobs/\(blob.digest.algorithm.rawValue)")
                    try place(blob, at: "\(directory)/\(blob.memberPath)")
                }
                let index = try plan.indexJSON()
                try FileSystem.writeNewFile("\(directory)/index.json", index)
                return BlobHasher.hex(of: index, algorithm: .sha256)
            }
        } else {
            indexSHA256 = try add(plan, to: path, journal: journal)
        }
        return WriteResult(
            path: path, format: .oci, sha256: indexSHA256, manifestDigestWritten: plan.manifestDigest, convertedFrom: plan.convertedFrom)
    }

    /// Adds the image's blobs to an existing layout, then swaps in the new `index.json`.
    private func add(_ plan: ImageLayoutPlan, to path: String, journal: CommitJournal?) throws -> String {
        let layoutFile = "\(path)/oci-layout"
        struct LayoutVersion: Decodable { var imageLayoutVersion: String }
        guard let layoutData = FileManager.default.contents(atPath: layoutFile),
              (try? JSONDecoder().decode(LayoutVersion.self, from: layoutData)) != nil
        else {
            throw ArtifactsError(.outputExists, "\(layoutFile) is not a valid oci-layout file, so \(path) is not an OCI layout 3tofu can add to; choose another path")
        }
        let indexPath = "\(path)/index.json"
        var existing: ImageIndex?
        if let data = FileManager.default.contents(atPath: indexPath) {
            do {
                existing = try JSONDecoder().decode(ImageIndex.self, from: data)
            } catch {
                throw ArtifactsError(.outputExists, "\(indexPath) is not a valid image index (\(error)); repair or remove the layout at \(path)")
            }
        }
        for blob in plan.blobs {
            let destination = "\(path)/\(blob.memberPath)"
            // A blob the layout holds already is kept only if its bytes are the agreed ones.
            if try BlobHasher.fileMatches(destination, digest: blob.digest, size: blob.size) { continue }
            try FileSystem.makeDirectories(FileSystem.directoryName(destination))
            let temporary = AtomicOutput.temporarySibling(of: destination)
            do {
                try place(blob, at: temporary)
                try CommitJournal.move(temporary, to: destination, journal: journal)
            } catch {
                unlink(temporary)
                throw error
            }
        }
        let index = try plan.indexJSON(adding: existing)
        let temporary = AtomicOutput.temporarySibling(of: indexPath)
        do {
            try FileSystem.writeNewFile(temporary, index)
            try CommitJournal.move(temporary, to: indexPath, journal: journal)
        } catch {
            unlink(temporary)
            throw error
        }
        FileSystem.syncDirectory(path)
        return BlobHasher.hex(of: index, algorithm: .sha256)
    }

    /// Puts a blob at `destination` (which must not exist): hard link from the store, else copy;
    /// then hashes what is at `destination`, so a cached file that changed since it was verified
    /// never becomes part of the layout.
    private func place(_ blob: ImageLayoutPlan.Blob, at destination: String) throws {
        switch blob.source {
        case .bytes(let data):
            try FileSystem.writeNewFile(destination, data)
        case .file(let source):
            try Self.place(source, digest: blob.digest, size: blob.size, at: destination)
        }
    }

    /// A stored blob at `destination` (which must not exist): hard link, else copy; then hashed
    /// where it now is.
    static func place(_ source: String, digest: Digest, size: Int64, at destination: String) throws {
        if link(source, destination) != 0 {
            if errno == EEXIST { throw FileSystem.ioError("link \(source) to", destination) }
            try FileSystem.copyFile(source, to: destination, size: size)
        }
        guard try BlobHasher.fileMatches(destination, digest: digest, size: size) else {
            unlink(destination)
            throw ArtifactsError(
                .digestMismatch,
                "\(source) no longer holds the agreed bytes of \(digest): the cache changed under this run; nothing was written to the layout, run again")
        }
    }

    /// Refuses a path a layout cannot be written at: empty, or something there that is neither
    /// an empty directory nor a layout to add to.
    static func checkTarget(_ path: String) throws {
        guard !path.isEmpty else {
            throw ArtifactsError(.io, "the output path is empty; give a directory name")
        }
        guard FileSystem.exists(path), !isEmptyDirectory(path),
              !(FileSystem.isDirectory(path) && FileSystem.regularFileSize("\(path)/oci-layout") != nil) else { return }
        let what = FileSystem.isDirectory(path) ? "a directory that is not empty and is not an OCI image layout" : "a file"
        throw ArtifactsError(
            .outputExists,
            "refusing to write an OCI layout to \(path): it is \(what); choose a new path, an empty directory, or an existing OCI layout to add the image to"
        )
    }

    private static func isEmptyDirectory(_ path: String) -> Bool {
        guard FileSystem.isDirectory(path), let entries = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        return entries.isEmpty
    }
}
