import Foundation
import OCI

/// One verified single-platform image, ready for a writer: the exact manifest bytes that were
/// agreed on, its config, and its layers (whose blobs are in the `ContentStore`).
public struct ImageToWrite: Sendable {
    /// `registry/repository:tag` (e.g. `127.0.0.1:5000/a/b:tag`, `registry-1.docker.io/library/hitch:latest`)
    /// used to tag the output; nil, or a name without a tag, writes an untagged image.
    public var name: String?
    public var manifestBytes: Data
    public var manifestDigest: Digest
    public var manifestMediaType: String
    public var config: Descriptor
    public var configBytes: Data
    public var layers: [Descriptor]
    /// The platform the manifest was selected for; when nil, writers take it from the config.
    public var platform: Platform?

    public init(
        name: String?, manifestBytes: Data, manifestDigest: Digest, manifestMediaType: String,
        config: Descriptor, configBytes: Data, layers: [Descriptor], platform: Platform? = nil
    ) {
        self.name = name
        self.manifestBytes = manifestBytes
        self.manifestDigest = manifestDigest
        self.manifestMediaType = manifestMediaType
        self.config = config
        self.configBytes = configBytes
        self.layers = layers
        self.platform = platform
    }
}
