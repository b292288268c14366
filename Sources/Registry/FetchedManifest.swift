import Foundation
import OCI
import Transport

/// A manifest or index as one vantage received it: the exact bytes, their digest, and how they came.
public struct FetchedManifest: Sendable {
    public var bytes: Data
    public var digest: Digest
    /// The media type from the body, else from Content-Type.
    public var mediaType: String
    public var contentType: String?
    /// The `Docker-Content-Digest` header, when the registry sent one (already checked to match).
    public var dockerContentDigest: String?
    public var document: ManifestDocument
    /// Every URL the request went through, redirects included.
    public var urlChain: [String]
    public var evidence: TransportEvidence

    public init(bytes: Data, digest: Digest, mediaType: String, contentType: String?, dockerContentDigest: String?, document: ManifestDocument, urlChain: [String], evidence: TransportEvidence) {
        self.bytes = bytes
        self.digest = digest
        self.mediaType = mediaType
        self.contentType = contentType
        self.dockerContentDigest = dockerContentDigest
        self.document = document
        self.urlChain = urlChain
        self.evidence = evidence
    }

    public var descriptor: Descriptor {
        Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }
}

/// What one vantage resolved a reference to: the top manifest or index and, for an index,
/// the manifest chosen for the platform.
public struct ImageResolution: Sendable {
    public var reference: ImageReference
    public var top: FetchedManifest
    public var platformManifest: FetchedManifest?
    /// The platform asked for, when the top was an index.
    public var platform: Platform?
    public var manifest: ImageManifest
    /// The config blob as this vantage received it (not yet checked against its digest).
    public var config: RegistryClient.SmallBlob?

    public init(reference: ImageReference, top: FetchedManifest, platformManifest: FetchedManifest?, platform: Platform?, manifest: ImageManifest, config: RegistryClient.SmallBlob? = nil) {
        self.reference = reference
        self.top = top
        self.platformManifest = platformManifest
        self.platform = platform
        self.manifest = manifest
        self.config = config
    }

    /// The image manifest that describes the layers (the platform's, or the top one).
    public var selected: FetchedManifest { platformManifest ?? top }
}
