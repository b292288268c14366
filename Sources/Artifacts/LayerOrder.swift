import OCI

/// The order in which an archive holds an image's layers, and in which a pull downloads them.
///
/// Smallest first (ties by digest, so the same image always gives the same archive bytes). With
/// several downloads at once, each sharing the bandwidth, small layers finish first: the archive
/// writer, which must add layers in its fixed order, finds each one in the store soon after it
/// lands and copies it while the larger ones still download, instead of waiting for the first
/// layer in manifest order and copying everything at the end. The order of `blobs/` members
/// does not matter to docker, podman or skopeo; `manifest.json` keeps the manifest's order.
public enum LayerOrder {
    public static func forWriting(_ layers: [Descriptor]) -> [Descriptor] {
        layers.sorted { ($0.size, $0.digest.string) < ($1.size, $1.digest.string) }
    }
}
