extension ObservedImage {
    /// One entry of an index as a vantage saw it under `--all-platforms`: the entry's platform
    /// (`unknown/unknown` for Docker's attestation manifests), the manifest it points at, that
    /// manifest's config and layers, and the config bytes as received.
    public struct IndexEntry: Sendable, Equatable, Codable {
        /// `os/arch[/variant]`, or "(none)" for an entry without a platform.
        public var platform: String
        /// The entry is an attestation (`vnd.docker.reference.type`, or `unknown/unknown`).
        public var attestation: Bool
        public var manifestDigest: String
        public var mediaType: String
        public var configDigest: String
        public var layers: [Layer]
        public var configReceived: String?
        /// With `blob_verification = "every-vantage"`: SHA-256 of each layer as received, in order.
        public var layersReceived: [String]?

        public init(
            platform: String, attestation: Bool, manifestDigest: String, mediaType: String, configDigest: String, layers: [Layer],
            configReceived: String? = nil, layersReceived: [String]? = nil
        ) {
            self.platform = platform
            self.attestation = attestation
            self.manifestDigest = manifestDigest
            self.mediaType = mediaType
            self.configDigest = configDigest
            self.layers = layers
            self.configReceived = configReceived
            self.layersReceived = layersReceived
        }

        /// How the items of this entry are named: "entry 2". The platform is an item of its own
        /// (`entry 2 platform`), so vantages that list other platforms still compare item by item.
        static func label(_ index: Int) -> String {
            "entry \(index + 1)"
        }

        /// What the entry is, for the platform item: "linux/arm64/v8", "unknown/unknown (attestation)".
        var kind: String { platform + (attestation ? " (attestation)" : "") }

        /// Every entry's items, in index order: platform, manifest, media type, config, layers, received bytes.
        static func comparedItems(_ entries: [IndexEntry]) -> [(item: String, value: String)] {
            var items: [(item: String, value: String)] = [("index entries", String(entries.count))]
            for (index, entry) in entries.enumerated() {
                let label = Self.label(index)
                items.append(("\(label) platform", entry.kind))
                items.append(("\(label) manifest", entry.manifestDigest))
                items.append(("\(label) media type", entry.mediaType))
                items.append(("\(label) config", entry.configDigest))
                items.append(("\(label) layer count", String(entry.layers.count)))
                for (number, layer) in entry.layers.enumerated() {
                    items.append(("\(label) layer \(number + 1)", "\(layer.digest) (\(layer.size) bytes)"))
                }
                if let configReceived = entry.configReceived {
                    items.append(("\(label) config bytes", configReceived))
                }
                for (number, received) in (entry.layersReceived ?? []).enumerated() {
                    items.append(("\(label) layer \(number + 1) bytes", received))
                }
            }
            return items
        }
    }
}
