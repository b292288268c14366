/// Everything one vantage saw of an image that must be the same everywhere.
public struct ObservedImage: Sendable, Equatable, Codable {
    public struct Layer: Sendable, Equatable, Codable {
        public var digest: String
        public var size: Int64
        public init(digest: String, size: Int64) {
            self.digest = digest
            self.size = size
        }
    }

    /// Digest and media type of what the tag (or digest) pointed at: a manifest or an index.
    public var topDigest: String
    public var topMediaType: String
    /// For an index: the digest of the manifest chosen for the platform.
    public var platformManifestDigest: String?
    public var configDigest: String
    public var layers: [Layer]
    /// SHA-256 of the config bytes as this vantage received them (every vantage fetches the config).
    public var configReceived: String?
    /// With `blob_verification = "every-vantage"`: SHA-256 of each layer as this vantage received it, in order.
    public var layersReceived: [String]?
    /// With `--all-platforms`: every entry of the index (attestations included), in index order.
    /// The single-platform fields above are then empty and these are compared instead.
    public var platforms: [IndexEntry]?

    public init(
        topDigest: String, topMediaType: String, platformManifestDigest: String?, configDigest: String, layers: [Layer],
        configReceived: String? = nil, layersReceived: [String]? = nil, platforms: [IndexEntry]? = nil
    ) {
        self.topDigest = topDigest
        self.topMediaType = topMediaType
        self.platformManifestDigest = platformManifestDigest
        self.configDigest = configDigest
        self.layers = layers
        self.configReceived = configReceived
        self.layersReceived = layersReceived
        self.platforms = platforms
    }

    /// The compared items, in a stable order, as (item name, value) pairs.
    public var comparedItems: [(item: String, value: String)] {
        if let platforms { return [("manifest", topDigest), ("media type", topMediaType)] + IndexEntry.comparedItems(platforms) }
        var items: [(String, String)] = [
            ("manifest", topDigest),
            ("media type", topMediaType),
            ("platform manifest", platformManifestDigest ?? "(none: not an index)"),
            ("config", configDigest),
            ("layer count", String(layers.count)),
        ]
        for (index, layer) in layers.enumerated() {
            items.append(("layer \(index + 1)", "\(layer.digest) (\(layer.size) bytes)"))
        }
        if let configReceived {
            items.append(("config bytes", configReceived))
        }
        for (index, received) in (layersReceived ?? []).enumerated() {
            items.append(("layer \(index + 1) bytes", received))
        }
        return items
    }
}
