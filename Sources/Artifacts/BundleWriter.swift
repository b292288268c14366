import Foundation
import OCI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes several verified images as one output that stores every blob once:
///
/// - `.oci`: one OCI image layout directory, built in a temporary sibling (each image added with
///   `OCILayoutWriter`) and renamed into place when complete; `path` must not exist or be an
///   empty directory.
/// - `.dockerArchive`: one tar for a single `docker load` / `podman load`: `manifest.json` with one
///   entry per image (its `RepoTags`), one `repositories` file for all, and the OCI layout files.
/// - `.ociArchive`: the OCI layout as one tar.
///
/// In a bundle each `index.json` entry's `org.opencontainers.image.ref.name` is the image's
/// `RepoTags` name (`alpine:3.20`, `127.0.0.1:5000/a/b:1`), not the tag alone, so images that
/// share a tag stay apart (`skopeo inspect oci:DIR:alpine:3.20`). Two images with the same name
/// are refused.
public struct BundleWriter: Sendable {
    public let store: ContentStore
    public let format: OutputFormat

    public init(store: ContentStore, format: OutputFormat) {
        self.store = store
        self.format = format
    }

    /// Blocking; from async code wrap it in `BlockingIO.run`. One `WriteResult` per image, in order;
    /// they share the path and SHA-256 (of the tar, or of the layout's `index.json`). With
    /// `journal`, the bundle can be taken back until the run keeps it.
    @discardableResult
    public func write(_ images: [ImageToWrite], to path: String, journal: CommitJournal? = nil) throws -> [WriteResult] {
        guard !images.isEmpty else {
            throw ArtifactsError(.invalidImage, "a bundle needs at least one image; nothing was written to \(path)")
        }
        let plans = try images.map { try ImageLayoutPlan($0, store: store) }
        try Self.checkNamesAreUnique(plans)
        let index = try Self.encode(ImageIndex(manifests: Self.indexEntries(plans)))
        let sha256: String
        switch format {
        case .oci:
            try writeLayout(images, index: index, to: path, journal: journal)
            sha256 = BlobHasher.hex(of: index, algorithm: .sha256)
        case .dockerArchive, .ociArchive:
            let docker = format == .dockerArchive
            sha256 = try AtomicOutput.writeFile(at: path, journal: journal) { fd, temporary in
                let tar = TarWriter(fileDescriptor: fd, label: temporary)
                try Self.writeTar(plans, index: index, to: tar, docker: docker)
                return tar.sha256Hex ?? ""
            }
        }
        return plans.map { plan in
            WriteResult(path: path, format: format, sha256: sha256, manifestDigestWritten: plan.manifestDigest, convertedFrom: plan.convertedFrom)
        }
    }

    /// The name an image has inside a bundle: its `RepoTags` entry, or nil when it has no tag.
    public static func bundleName(of image: ImageToWrite) throws -> String? {
        try ImageNaming(image.name).repoTag
    }

    /// A fresh layout in a temporary sibling of `path`: `OCILayoutWriter` adds each image (blobs
    /// already there are kept), then the bundle's `index.json` replaces the one it built.
    private func writeLayout(_ images: [ImageToWrite], index: Data, to path: String, journal: CommitJournal?) throws {
        guard !path.isEmpty else {
            throw ArtifactsError(.io, "the output path is empty; give a directory name")
        }
        if FileSystem.exists(path) {
            let entries = FileSystem.isDirectory(path) ? (try? FileManager.default.contentsOfDirectory(atPath: path)) : nil
            guard entries?.isEmpty == true else {
                throw ArtifactsError(
                    .outputExists,
                    "refusing to write a bundle to \(path): it already exists and is not an empty directory; remove it or choose a new path")
            }
        }
        let writer = OCILayoutWriter(store: store)
        try AtomicOutput.writeDirectory(at: path, journal: journal) { directory in
            try FileSystem.writeNewFile("\(directory)/oci-layout", ImageLayoutPlan.ociLayoutJSON)
            for image in images {
                try writer.write(image, to: directory)
            }
            let indexPath = "\(directory)/index.json"
            unlink(indexPath)
            try FileSystem.writeNewFile(indexPath, index)
        }
    }

    /// Member order: directories, each blob once (images in order), `index.json`, `manifest.json`,
    /// `oci-layout`, `repositories`: the order `LayoutTar` uses for one image.
    private static func writeTar(_ plans: [ImageLayoutPlan], index: Data, to tar: TarWriter, docker: Bool) throws {
        var blobs: [ImageLayoutPlan.Blob] = []
        var seen: Set<Digest> = []
        for plan in plans {
            for blob in plan.blobs where seen.insert(blob.digest).inserted {
                blobs.append(blob)
            }
        }
        try tar.addDirectory(name: "blobs")
        var algorithms: [String] = []
        for blob in blobs where !algorithms.contains(blob.digest.algorithm.rawValue) {
            algorithms.append(blob.digest.algorithm.rawValue)
        }
        for algorithm in algorithms {
            try tar.addDirectory(name: "blobs/\(algorithm)")
        }
        for blob in blobs {
            switch blob.source {
            case .bytes(let data): try tar.addFile(name: blob.memberPath, data: data)
            case .file(let path): try tar.addFile(name: blob.memberPath, contentsOf: path, size: blob.size, digest: blob.digest)
            }
        }
        try tar.addFile(name: "index.json", data: index)
        if docker {
            let entries = plans.map { plan in
                DockerManifestEntry(
                    Config: ImageLayoutPlan.memberPath(plan.image.config.digest),
                    RepoTags: plan.naming.repoTag.map { [$0] } ?? [],
                    Layers: plan.image.layers.map { ImageLayoutPlan.memberPath($0.digest) })
            }
            try tar.addFile(name: "manifest.json", data: try encode(entries))
        }
        try tar.addFile(name: "oci-layout", data: ImageLayoutPlan.ociLayoutJSON)
        if docker {
            var repositories: [String: [String: String]] = [:]
            for plan in plans {
                guard let repository = plan.naming.repository, let tag = plan.naming.tag else { continue }
                let top = plan.image.layers.last?.digest ?? plan.image.config.digest
                repositories[repository, default: [:]][tag] = top.encoded
            }
            if !repositories.isEmpty {
                try tar.addFile(name: "repositories", data: try encode(repositories))
            }
        }
        try tar.finish()
    }

    /// One entry of a docker-archive `manifest.json`.
    private struct DockerManifestEntry: Encodable {
        var Config: String
        var RepoTags: [String]
        var Layers: [String]
    }

    /// Each image's manifest, named by its `RepoTags` entry (untagged images carry no ref.name);
    /// an untagged manifest listed twice appears once.
    static func indexEntries(_ plans: [ImageLayoutPlan]) -> [Descriptor] {
        var entries: [Descriptor] = []
        for plan in plans {
            var entry = plan.manifestDescriptor
            if let name = plan.naming.repoTag {
                entry.annotations?[ImageLayoutPlan.refNameAnnotation] = name
            }
            if !entries.contains(entry) { entries.append(entry) }
        }
        return entries
    }

    static func checkNamesAreUnique(_ plans: [ImageLayoutPlan]) throws {
        var seen: Set<String> = []
        for name in plans.compactMap(\.naming.repoTag) where !seen.insert(name).inserted {
            throw ArtifactsError(
                .invalidImage, "two images in the bundle are both named \(name); a bundle holds one image per name, so list it once")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        try ImageLayoutPlan.encode(value)
    }
}
