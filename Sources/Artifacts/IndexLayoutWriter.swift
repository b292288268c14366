import Foundation
import OCI

/// A verified multi-platform image (`pull --all-platforms`): the index exactly as the vantages
/// agreed on it, and every blob it reaches (each platform's manifest, config and layers, the
/// attestation manifests and their blobs), all in the `ContentStore`.
public struct IndexToWrite: Sendable {
    /// `registry/repository:tag`, for the layout's `org.opencontainers.image.ref.name`.
    public var name: String?
    public var indexDigest: Digest
    public var indexSize: Int64
    public var indexMediaType: String
    /// Every blob the index reaches (manifests, configs, layers), each once, in the store.
    public var blobs: [Descriptor]

    public init(name: String?, indexDigest: Digest, indexSize: Int64, indexMediaType: String, blobs: [Descriptor]) {
        self.name = name
        self.indexDigest = indexDigest
        self.indexSize = indexSize
        self.indexMediaType = indexMediaType
        self.blobs = blobs
    }
}

/// Writes an `IndexToWrite` as an OCI image layout (a new path or an empty directory) or as an
/// oci-archive, the way `skopeo copy --all` does: the index is a blob, stored byte for byte as
/// received (never re-serialised, so its digest is the agreed one), and the layout's own
/// `index.json` points at it with the tag. Every blob is hashed against its digest on its way in.
/// A docker-archive cannot hold an index: it is refused.
public struct IndexLayoutWriter: Sendable {
    public let store: ContentStore
    public let format: OutputFormat

    public init(store: ContentStore, format: OutputFormat) {
        self.store = store
        self.format = format
    }

    /// Refuses what cannot hold every platform, before any network work.
    public static func checkFormat(_ format: OutputFormat) throws {
        guard format != .dockerArchive else {
            throw ArtifactsError(
                .invalidImage,
                "--all-platforms needs an output that can hold an image index: a docker-archive holds one platform only; use --format oci or --format oci-archive, or drop --all-platforms"
            )
        }
    }

    /// A layout for every platform is written only at a new path or into an empty directory.
    public static func checkLayoutTarget(_ path: String) throws {
        guard !path.isEmpty else { throw ArtifactsError(.io, "the output path is empty; give a directory name") }
        guard FileSystem.exists(path) else { return }
        let entries = FileSystem.isDirectory(path) ? (try? FileManager.default.contentsOfDirectory(atPath: path)) : nil
        guard entries?.isEmpty == true else {
            throw ArtifactsError(
                .outputExists,
                "refusing to write every platform to \(path): it already exists and is not an empty directory; remove it or choose a new path")
        }
    }

    /// Blocking; from async code wrap it in `BlockingIO.run`. With `journal`, the output can be taken back until the run keeps it.
    @discardableResult
    public func write(_ image: IndexToWrite, to path: String, journal: CommitJournal? = nil) throws -> WriteResult {
        try write([image], to: path, journal: journal, fullNames: false)[0]
    }

    /// Several images (a bundle) in one output, each blob once; one `WriteResult` per image, in
    /// order, sharing the path and SHA-256. `fullNames`: each image's ref.name is its full name
    /// (`127.0.0.1:5000/a/b:1`, as in a bundle), else the tag alone (as for one image).
    public func write(_ images: [IndexToWrite], to path: String, journal: CommitJournal? = nil, fullNames: Bool) throws -> [WriteResult] {
        try Self.checkFormat(format)
        guard !images.isEmpty else {
            throw ArtifactsError(.invalidImage, "there is no image to write; nothing was written to \(path)")
        }
        let index = try Self.layoutIndex(images, fullNames: fullNames)
        var blobs: [Descriptor] = []
        for image in images {
            blobs += image.blobs
            blobs.append(Descriptor(mediaType: image.indexMediaType, digest: image.indexDigest, size: image.indexSize))
        }
        var seen: Set<Digest> = []
        blobs = blobs.filter { seen.insert($0.digest).inserted }
        for blob in blobs where !store.contains(blob.digest, size: blob.size) {
            throw ArtifactsError(.missingBlob, "\(blob.digest) (\(blob.size) bytes) is not in the cache (\(store.root)); run the pull again to fetch it")
        }
        let sha256: String
        switch format {
        case .dockerArchive:
            try Self.checkFormat(format)
            sha256 = ""
        case .oci:
            try Self.checkLayoutTarget(path)
            sha256 = try AtomicOutput.writeDirectory(at: path, journal: journal) { directory in
                try FileSystem.writeNewFile("\(directory)/oci-layout", ImageLayoutPlan.ociLayoutJSON)
                for algorithm in Set(blobs.map(\.digest.algorithm.rawValue)) {
                    try FileSystem.makeDirectories("\(directory)/blobs/\(algorithm)")
                }
                for blob in blobs {
                    try OCILayoutWriter.place(store.path(of: blob.digest), digest: blob.digest, size: blob.size, at: "\(directory)/\(ImageLayoutPlan.memberPath(blob.digest))")
                }
                try FileSystem.writeNewFile("\(directory)/index.json", index)
                return BlobHasher.hex(of: index, algorithm: .sha256)
            }
        case .ociArchive:
            sha256 = try AtomicOutput.writeFile(at: path, journal: journal) { fd, temporary in
                let tar = TarWriter(fileDescriptor: fd, label: temporary)
                try tar.addDirectory(name: "blobs")
                for algorithm in Set(blobs.map(\.digest.algorithm.rawValue)).sorted() {
                    try tar.addDirectory(name: "blobs/\(algorithm)")
                }
                for blob in blobs {
                    // Hashed against its digest as it goes into the tar.
                    try tar.addFile(name: ImageLayoutPlan.memberPath(blob.digest), contentsOf: store.path(of: blob.digest), size: blob.size, digest: blob.digest)
                }
                try tar.addFile(name: "index.json", data: index)
                try tar.addFile(name: "oci-layout", data: ImageLayoutPlan.ociLayoutJSON)
                try tar.finish()
                return tar.sha256Hex ?? ""
            }
        }
        return images.map { image in
            WriteResult(path: path, format: format, sha256: sha256, manifestDigestWritten: image.indexDigest, convertedFrom: nil)
        }
    }

    /// The layout's `index.json`: one entry per image, the agreed index, tagged as skopeo tags it
    /// (or, in a bundle, by its full name). Two images under one name are refused.
    static func layoutIndex(_ images: [IndexToWrite], fullNames: Bool) throws -> Data {
        var names: Set<String> = []
        let entries = try images.map { image in
            let naming = try ImageNaming(image.name)
            var annotations: [String: String] = [:]
            if let name = fullNames ? naming.repoTag : naming.tag {
                guard names.insert(name).inserted else {
                    throw ArtifactsError(.invalidName, "two images are named \(name); list each image once")
                }
                annotations[ImageLayoutPlan.refNameAnnotation] = name
            }
            if let full = naming.containerdName { annotations[ImageLayoutPlan.containerdNameAnnotation] = full }
            return Descriptor(
                mediaType: image.indexMediaType, digest: image.indexDigest, size: image.indexSize, annotations: annotations.isEmpty ? nil : annotations)
        }
        return try ImageLayoutPlan.encode(ImageIndex(manifests: entries))
    }
}
