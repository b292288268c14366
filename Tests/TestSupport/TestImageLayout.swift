import Foundation

/// A synthetic image written by `TestImage.make` as an OCI image layout directory, with the
/// digests a test needs to check what a client fetched.
public struct TestImageLayout: Sendable {
    /// A content descriptor as written in the manifests.
    public struct Descriptor: Sendable, Codable, Hashable {
        public let mediaType: String
        public let digest: String
        public let size: Int
    }

    /// A layer: compressed descriptor, plus the digest and size of the uncompressed tar.
    public struct Layer: Sendable, Codable, Hashable {
        public let mediaType: String
        public let digest: String
        public let size: Int
        public let diffID: String
        public let uncompressedSize: Int
    }

    /// One platform's image: manifest, config and layers.
    public struct Image: Sendable, Codable {
        /// "os/architecture[/variant]", e.g. "linux/arm64/v8".
        public let platform: String
        public let manifest: Descriptor
        public let config: Descriptor
        public let layers: [Layer]
    }

    /// A Docker-style attestation manifest in the index, and the image manifest it refers to.
    public struct Attestation: Sendable, Codable {
        public let subject: String
        public let manifest: Descriptor
    }

    public let layoutPath: String
    /// The manifest or index that the layout's index.json points at (what a tag resolves to).
    public let top: Descriptor
    public let images: [Image]
    public let attestations: [Attestation]

    public var topDigest: String { top.digest }
    public var topMediaType: String { top.mediaType }
    public var isIndex: Bool { top.mediaType.contains("index") || top.mediaType.contains("list") }

    /// Image manifest digests by platform ("linux/amd64" → "sha256:...").
    public var manifestDigests: [String: String] {
        Dictionary(images.map { ($0.platform, $0.manifest.digest) }, uniquingKeysWith: { first, _ in first })
    }

    /// Attestation manifest digests by the platform of the image they refer to.
    public var attestationDigests: [String: String] {
        var result: [String: String] = [:]
        for attestation in attestations {
            if let image = images.first(where: { $0.manifest.digest == attestation.subject }) {
                result[image.platform] = attestation.manifest.digest
            }
        }
        return result
    }

    /// Layer digests of the first (or only) image, in manifest order.
    public var layerDigests: [String] { images.first?.layers.map(\.digest) ?? [] }

    /// Config digest of the first (or only) image.
    public var configDigest: String { images.first?.config.digest ?? "" }

    /// The image for `platform` ("linux/amd64", "linux/arm64/v8").
    public func image(for platform: String) -> Image? {
        images.first { $0.platform == platform }
    }

    /// The path of a blob in the layout.
    public func blobPath(_ digest: String) -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : digest
        return "\(layoutPath)/blobs/sha256/\(hex)"
    }

    /// The exact bytes of a blob (manifest, index, config or layer) in the layout.
    public func blob(_ digest: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: blobPath(digest)) else {
            throw FixtureError("blob \(digest) is not in the layout at \(layoutPath)")
        }
        return data
    }
}
