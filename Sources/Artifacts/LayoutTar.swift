import Foundation
import OCI

/// Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/...`) into a tar, optionally
/// with the Docker `manifest.json` and `repositories` files that make it a docker-archive too.
enum LayoutTar {
    /// One entry of a docker-archive `manifest.json`.
    private struct DockerManifestEntry: Encodable {
        var Config: String
        var RepoTags: [String]
        var Layers: [String]
    }

    /// Returns how many layers were taken live from their downloads.
    @discardableResult
    static func write(_ plan: ImageLayoutPlan, to tar: TarWriter, docker: Bool) throws -> Int {
        var takenLive = 0
        try tar.addDirectory(name: "blobs")
        var algorithms: [String] = []
        for blob in plan.blobs where !algorithms.contains(blob.digest.algorithm.rawValue) {
            algorithms.append(blob.digest.algorithm.rawValue)
        }
        for algorithm in algorithms {
            try tar.addDirectory(name: "blobs/\(algorithm)")
        }
        for blob in plan.blobs {
            switch blob.source {
            case .bytes(let data): try tar.addFile(name: blob.memberPath, data: data)
            case .file(let path):
                if let layer = plan.live(blob) {
                    let first = layer.next()
                    if case .abandoned = first {
                        // Given up before its first byte: nothing of it is in the archive yet,
                        // so the store's copy will do.
                    } else {
                        try tar.addFile(name: blob.memberPath, size: blob.size, digest: blob.digest, first: first, rest: layer)
                        takenLive += 1
                        continue
                    }
                }
                try plan.prepare(blob)
                try tar.addFile(name: blob.memberPath, contentsOf: path, size: blob.size, digest: blob.digest)
            }
        }
        try tar.addFile(name: "index.json", data: try plan.indexJSON())
        if docker {
            let entry = DockerManifestEntry(
                Config: ImageLayoutPlan.memberPath(plan.image.config.digest),
                RepoTags: plan.naming.repoTag.map { [$0] } ?? [],
                Layers: plan.image.layers.map { ImageLayoutPlan.memberPath($0.digest) })
            try tar.addFile(name: "manifest.json", data: try ImageLayoutPlan.encode([entry]))
        }
        try tar.addFile(name: "oci-layout", data: ImageLayoutPlan.ociLayoutJSON)
        if docker, let repository = plan.naming.repository, let tag = plan.naming.tag {
            let top = plan.image.layers.last?.digest ?? plan.image.config.digest
            try tar.addFile(name: "repositories", data: try ImageLayoutPlan.encode([repository: [tag: top.encoded]]))
        }
        try tar.finish()
        return takenLive
    }
}
