import Artifacts
import Foundation
import OCI
import TestSupport

/// A small, valid two-layer linux/amd64 image built with the system `tar` and `gzip`, its blobs
/// in a fresh `ContentStore`, plus a scratch directory for outputs.
final class SampleImage: Sendable {
    let directory: TemporaryDirectory
    let store: ContentStore
    let config: Descriptor
    let configBytes: Data
    let layers: [Descriptor]
    let diffIDs: [String]
    /// Files in the image and their contents, for checking an unpacked root file system.
    let files: [String: String] = ["hello.txt": "hello from 3tofu\n", "etc/motd": "verified three times\n"]

    static let name = "127.0.0.1:5000/a/b:tag"

    init() throws {
        directory = try TemporaryDirectory(prefix: "artifacts")
        store = ContentStore(root: directory.file("store"))
        var layers: [Descriptor] = []
        var diffIDs: [String] = []
        for (index, file) in ["hello.txt", "etc/motd"].enumerated() {
            let root = directory.file("layer\(index)")
            try FileManager.default.createDirectory(atPath: "\(root)/\(FileSystemPath.directory(of: file))", withIntermediateDirectories: true)
            try Data(files[file, default: ""].utf8).write(to: URL(fileURLWithPath: "\(root)/\(file)"))
            let tarPath = directory.file("layer\(index).tar")
            try Shell.check(["tar", "-C", root, "-cf", tarPath, "."])
            diffIDs.append("sha256:" + (try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: tarPath)))))
            try Shell.check(["gzip", "-n", "-k", tarPath])
            let gzipped = try Data(contentsOf: URL(fileURLWithPath: tarPath + ".gz"))
            let digest = try Digest(parsing: "sha256:" + (try Shell.sha256Hex(gzipped)))
            // Arrive in the store the way a resumed download does: a partial file, then verified.
            try gzipped.write(to: URL(fileURLWithPath: store.partialPath(for: digest)))
            try store.verifyAndCommitPartial(for: digest, expectedSize: Int64(gzipped.count))
            layers.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: Int64(gzipped.count)))
        }
        self.layers = layers
        self.diffIDs = diffIDs
        let configJSON: [String: Any] = [
            "architecture": "amd64", "os": "linux",
            "config": ["Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]],
            "rootfs": ["type": "layers", "diff_ids": diffIDs],
        ]
        configBytes = try JSONSerialization.data(withJSONObject: configJSON, options: [.sortedKeys])
        let configDigest = try Digest(parsing: "sha256:" + (try Shell.sha256Hex(configBytes)))
        try store.ingest(data: configBytes, digest: configDigest)
        config = Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count))
    }

    /// The image with an OCI manifest, or a Docker schema 2 one (`docker: true`).
    func image(docker: Bool = false, name: String? = SampleImage.name) throws -> ImageToWrite {
        func descriptor(_ d: Descriptor, _ type: String) -> [String: Any] {
            ["mediaType": type, "digest": d.digest.string, "size": d.size]
        }
        let manifest: [String: Any] = [
            "schemaVersion": 2,
            "mediaType": docker ? MediaType.dockerManifest : MediaType.ociManifest,
            "config": descriptor(config, docker ? MediaType.dockerConfig : MediaType.ociConfig),
            "layers": layers.map { descriptor($0, docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip) },
        ]
        let bytes = try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys, .prettyPrinted])
        let digest = try Digest(parsing: "sha256:" + (try Shell.sha256Hex(bytes)))
        var configDescriptor = config
        configDescriptor.mediaType = docker ? MediaType.dockerConfig : MediaType.ociConfig
        return ImageToWrite(
            name: name, manifestBytes: bytes, manifestDigest: digest,
            manifestMediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
            config: configDescriptor, configBytes: configBytes,
            layers: layers.map { layer in
                var copy = layer
                copy.mediaType = docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip
                return copy
            },
            platform: nil)
    }

    /// Entries of `directory` (the output's parent) whose names mark a writer's temporary files.
    func leftoverTemporaries(in path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.contains("3tofu-tmp") }
    }
}

enum FileSystemPath {
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }
}

/// Decodes JSON printed by a tool.
func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}

/// The fields of `skopeo inspect` output the tests look at.
struct SkopeoInspect: Decodable {
    var Digest: String
    var Layers: [String]
    var Architecture: String?
    var Os: String?
}
