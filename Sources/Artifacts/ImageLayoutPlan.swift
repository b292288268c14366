import Foundation
import OCI

/// Everything an output needs, checked before anything is written: the manifest as it will be
/// stored (a Docker schema 2 manifest converted to OCI types), the blobs in order, and the names.
struct ImageLayoutPlan {
    /// Where a blob's bytes come from.
    enum Source {
        case file(String)
        case bytes(Data)
    }

    struct Blob {
        var digest: Digest
        var size: Int64
        var source: Source

        /// `blobs/<algorithm>/<hex>`.
        var memberPath: String { ImageLayoutPlan.memberPath(digest) }
    }

    static let refNameAnnotation = "org.opencontainers.image.ref.name"
    static let containerdNameAnnotation = "io.containerd.image.name"

    let image: ImageToWrite
    let naming: ImageNaming
    /// The manifest bytes stored in the output (the verified ones, or their OCI conversion).
    let manifestBytes: Data
    let manifestDigest: Digest
    let manifestMediaType: String
    /// Set when `manifestBytes` is a conversion of this verified Docker manifest.
    let convertedFrom: Digest?
    let platform: Platform?
    /// Config, then layers (each once, in `LayerOrder`), then the manifest.
    let blobs: [Blob]

    static func memberPath(_ digest: Digest) -> String {
        "blobs/\(digest.algorithm.rawValue)/\(digest.encoded)"
    }

    let store: ContentStore
    /// Set when the plan was made while layers were still downloading.
    let layerAvailability: LayerAvailability?
    /// Set when layers still downloading may be taken from the download as it arrives.
    var liveLayers: (any LiveLayerSource)?

    /// Without `layerAvailability` every layer must be in `store` already; with it, each layer is
    /// waited for (and then checked) only when a writer is about to read it.
    init(_ image: ImageToWrite, store: ContentStore, layerAvailability: LayerAvailability? = nil) throws {
        self.image = image
        self.store = store
        self.layerAvailability = layerAvailability
        naming = try ImageNaming(image.name)

        let manifestHex = BlobHasher.hex(of: image.manifestBytes, algorithm: image.manifestDigest.algorithm)
        guard manifestHex == image.manifestDigest.encoded else {
            throw ArtifactsError(
                .digestMismatch,
                "the manifest bytes handed to the writer hash to \(image.manifestDigest.algorithm.rawValue):\(manifestHex), not the verified \(image.manifestDigest); nothing was written"
            )
        }
        let configHex = BlobHasher.hex(of: image.configBytes, algorithm: image.config.digest.algorithm)
        guard configHex == image.config.digest.encoded, Int64(image.configBytes.count) == image.config.size else {
            throw ArtifactsError(
                .digestMismatch,
                "the config bytes handed to the writer (\(image.configBytes.count) bytes, \(image.config.digest.algorithm.rawValue):\(configHex)) are not the config \(image.config.digest) of \(image.config.size) bytes; nothing was written"
            )
        }

        let type = MediaType.essence(image.manifestMediaType)
        switch type {
        case MediaType.ociManifest:
            manifestBytes = image.manifestBytes
            manifestDigest = image.manifestDigest
            convertedFrom = nil
        case MediaType.dockerManifest:
            manifestBytes = try Self.convertToOCI(image.manifestBytes, digest: image.manifestDigest)
            manifestDigest = try Digest(algorithm: .sha256, encoded: BlobHasher.hex(of: manifestBytes, algorithm: .sha256))
            convertedFrom = image.manifestDigest
        default:
            throw ArtifactsError(
                .unsupported,
                "cannot write manifest \(image.manifestDigest) of type \(image.manifestMediaType); only single-platform OCI and Docker schema 2 image manifests can be written (choose a platform from an index with --platform)"
            )
        }
        manifestMediaType = MediaType.ociManifest
        platform = image.platform ?? Self.platform(fromConfig: image.configBytes)

        var seen: Set<Digest> = [image.config.digest]
        var blobs = [Blob(digest: image.config.digest, size: image.config.size, source: .bytes(image.configBytes))]
        for layer in LayerOrder.forWriting(image.layers) where seen.insert(layer.digest).inserted {
            if layerAvailability == nil {
                try Self.requireStored(digest: layer.digest, size: layer.size, in: store)
            }
            blobs.append(Blob(digest: layer.digest, size: layer.size, source: .file(store.path(of: layer.digest))))
        }
        if seen.insert(manifestDigest).inserted {
            blobs.append(Blob(digest: manifestDigest, size: Int64(manifestBytes.count), source: .bytes(manifestBytes)))
        }
        self.blobs = blobs
    }

    /// Before a writer reads a layer's file: waits for the layer when the plan was made while
    /// layers were still downloading, then checks that the store holds all of it.
    func prepare(_ blob: Blob) throws {
        guard let layerAvailability, case .file = blob.source else { return }
        try layerAvailability(blob.digest, blob.size)
        try Self.requireStored(digest: blob.digest, size: blob.size, in: store)
    }

    /// The layer's download, when the writer is to take its bytes as they arrive (only with
    /// `liveLayers`, and only for a layer the download will hand over from its first byte).
    func live(_ blob: Blob) -> (any LiveLayer)? {
        guard let liveLayers, case .file = blob.source else { return nil }
        return liveLayers.liveLayer(blob.digest, size: blob.size)
    }

    private static func requireStored(digest: Digest, size: Int64, in store: ContentStore) throws {
        guard store.contains(digest, size: size) else {
            let present = FileSystem.regularFileSize(store.path(of: digest))
            let why = present.map { "the cached file has \($0) bytes, the manifest says \(size)" } ?? "it is not in the cache"
            throw ArtifactsError(
                present == nil ? .missingBlob : .sizeMismatch,
                "layer \(digest) cannot be written: \(why) (\(store.root)); run the pull again to fetch it"
            )
        }
    }

    /// The index entry for the manifest, annotated with the tag and the full name.
    var manifestDescriptor: Descriptor {
        var annotations: [String: String] = [:]
        if let tag = naming.tag { annotations[Self.refNameAnnotation] = tag }
        if let full = naming.containerdName { annotations[Self.containerdNameAnnotation] = full }
        return Descriptor(
            mediaType: manifestMediaType, digest: manifestDigest, size: Int64(manifestBytes.count),
            annotations: annotations.isEmpty ? nil : annotations, platform: platform)
    }

    /// `index.json`: `existing` entries kept, except one carrying the same tag, which is replaced.
    func indexJSON(adding existing: ImageIndex? = nil) throws -> Data {
        var manifests = existing?.manifests ?? []
        if let tag = naming.tag {
            manifests.removeAll { $0.annotations?[Self.refNameAnnotation] == tag }
        }
        manifests.removeAll { $0.digest == manifestDigest && $0.annotations?[Self.refNameAnnotation] == nil }
        manifests.append(manifestDescriptor)
        var index = existing ?? ImageIndex(manifests: [])
        index.schemaVersion = 2
        index.mediaType = MediaType.ociIndex
        index.manifests = manifests
        return try Self.encode(index)
    }

    static let ociLayoutJSON = Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw ArtifactsError(.invalidImage, "could not encode \(T.self) as JSON: \(error)")
        }
    }

    /// A Docker schema 2 manifest with OCI media types; digests and sizes unchanged.
    static func convertToOCI(_ bytes: Data, digest: Digest) throws -> Data {
        var manifest: ImageManifest
        do {
            manifest = try JSONDecoder().decode(ImageManifest.self, from: bytes)
        } catch {
            throw ArtifactsError(.invalidImage, "Docker manifest \(digest) is not a valid image manifest, so it cannot be converted to OCI: \(error)")
        }
        func ociType(_ type: String, of what: String) throws -> String {
            if let converted = MediaType.ociEquivalent(of: type) { return converted }
            if MediaType.essence(type).hasPrefix("application/vnd.oci.") { return type }
            throw ArtifactsError(
                .unsupported,
                "Docker manifest \(digest) has \(what) of media type \(type), which has no OCI equivalent; write it as docker-archive instead"
            )
        }
        manifest.mediaType = MediaType.ociManifest
        manifest.config.mediaType = try ociType(manifest.config.mediaType, of: "a config")
        for index in manifest.layers.indices {
            manifest.layers[index].mediaType = try ociType(manifest.layers[index].mediaType, of: "layer \(manifest.layers[index].digest)")
        }
        return try encode(manifest)
    }

    private struct ConfigPlatform: Decodable {
        var os: String?
        var architecture: String?
        var variant: String?
    }

    static func platform(fromConfig bytes: Data) -> Platform? {
        guard let config = try? JSONDecoder().decode(ConfigPlatform.self, from: bytes),
              let os = config.os, let architecture = config.architecture, !os.isEmpty, !architecture.isEmpty
        else { return nil }
        return Platform(os: os, architecture: architecture, variant: config.variant.flatMap { $0.isEmpty ? nil : $0 })
    }
}
