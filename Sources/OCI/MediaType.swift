/// Media type names used by OCI and Docker images. Media types stay plain strings everywhere,
/// so an unknown type passes through untouched until something has to decide about it.
public enum MediaType {
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayerTar = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributableTar = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
    public static let ociEmptyJSON = "application/vnd.oci.empty.v1+json"

    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    public static let dockerSchema1Manifest = "application/vnd.docker.distribution.manifest.v1+json"
    public static let dockerSchema1SignedManifest = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    /// What to send in `Accept` when fetching a manifest: OCI manifest, OCI index, Docker v2
    /// manifest, Docker manifest list. Schema 1 is deliberately absent.
    public static let manifestAcceptTypes: [String] = [ociManifest, ociIndex, dockerManifest, dockerManifestList]

    private static let layerTypes: Set<String> = [
        ociLayerTar, ociLayerGzip, ociLayerZstd,
        ociLayerNondistributableTar, ociLayerNondistributableGzip, ociLayerNondistributableZstd,
        dockerLayerTar, dockerLayerGzip, dockerForeignLayerGzip,
    ]

    /// The type without parameters or surrounding space, lowercased:
    /// `"Application/JSON; charset=utf-8"` → `"application/json"`.
    public static func essence(_ mediaType: String) -> String {
        let base = mediaType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return base.trimmingASCIIWhitespace().lowercased()
    }

    /// An image index or a Docker manifest list.
    public static func isIndex(_ mediaType: String) -> Bool {
        let type = essence(mediaType)
        return type == ociIndex || type == dockerManifestList
    }

    /// A single-platform image manifest (OCI or Docker schema 2).
    public static func isManifest(_ mediaType: String) -> Bool {
        let type = essence(mediaType)
        return type == ociManifest || type == dockerManifest
    }

    /// A Docker schema 1 manifest, signed or not (unsupported: its digest does not pin content).
    public static func isSchema1(_ mediaType: String) -> Bool {
        let type = essence(mediaType)
        return type == dockerSchema1Manifest || type == dockerSchema1SignedManifest
    }

    /// A filesystem layer of any known compression, distributable or not.
    public static func isLayer(_ mediaType: String) -> Bool {
        layerTypes.contains(essence(mediaType))
    }

    /// The OCI media type a Docker one converts to, or nil when there is none.
    public static func ociEquivalent(of dockerType: String) -> String? {
        switch essence(dockerType) {
        case dockerManifest: ociManifest
        case dockerManifestList: ociIndex
        case dockerConfig: ociConfig
        case dockerLayerGzip: ociLayerGzip
        case dockerLayerTar: ociLayerTar
        case dockerForeignLayerGzip: ociLayerNondistributableGzip
        default: nil
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's OWS) or line breaks.
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        let text = Substring(self)
        guard let start = text.firstIndex(where: { !isSpace($0) }), let end = text.lastIndex(where: { !isSpace($0) }) else {
            return text[text.endIndex...]
        }
        return text[start...end]
    }
}
