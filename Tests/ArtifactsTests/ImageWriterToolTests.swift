import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// Every output format, checked by tools nobody here wrote: skopeo, umoci, podman, tar.
@Suite struct ImageWriterToolTests {
    @Test func dockerArchiveIsReadBySkopeo() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("image.tar")
        let result = try ArchiveWriter(store: sample.store, format: .dockerArchive).write(try sample.image(), to: output)
        #expect(result.format == .dockerArchive)
        #expect(result.convertedFrom == nil)
        #expect(try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: output))) == result.sha256)

        let inspect = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "docker-archive:\(output)"]))
        // skopeo reports a docker-archive's layers by their uncompressed digests.
        #expect(inspect.Layers == sample.diffIDs)
        #expect(inspect.Digest.hasPrefix("sha256:"))
        #expect(inspect.Architecture == "amd64")

        let members = try Shell.check(["tar", "-tf", output]).split(separator: "\n").map(String.init)
        for expected in ["manifest.json", "repositories", "oci-layout", "index.json", "blobs/sha256/\(sample.config.digest.encoded)"]
            + sample.layers.map({ "blobs/sha256/\($0.digest.encoded)" }) {
            #expect(members.contains(expected), "missing \(expected) in \(members)")
        }
        let manifestJSON = try Shell.check(["tar", "-xOf", output, "manifest.json"])
        struct Entry: Decodable { var Config: String; var RepoTags: [String]; var Layers: [String] }
        let entries = try decodeJSON([Entry].self, manifestJSON)
        #expect(entries.count == 1)
        #expect(entries.first?.RepoTags == [SampleImage.name])
        #expect(entries.first?.Layers == sample.layers.map { "blobs/sha256/\($0.digest.encoded)" })
        #expect(entries.first?.Config == "blobs/sha256/\(sample.config.digest.encoded)")

        // The same tar is an OCI archive as well.
        let asOCI = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "oci-archive:\(output):tag"]))
        #expect(asOCI.Digest == result.manifestDigestWritten.string)
    }

    @Test(arguments: [false, true])
    func ociLayoutIsReadBySkopeoAndUnpackedByUmoci(docker: Bool) throws {
        let sample = try SampleImage()
        let image = try sample.image(docker: docker)
        let layout = sample.directory.file("layout")
        let result = try OCILayoutWriter(store: sample.store).write(image, to: layout)
        #expect(result.format == .oci)
        #expect(try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: "\(layout)/index.json"))) == result.sha256)
        if docker {
            #expect(result.convertedFrom == image.manifestDigest)
            #expect(result.manifestDigestWritten != image.manifestDigest)
            let written = try Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(result.manifestDigestWritten.encoded)"))
            let manifest = try JSONDecoder().decode(ImageManifest.self, from: written)
            #expect(manifest.mediaType == MediaType.ociManifest)
            #expect(manifest.config.mediaType == MediaType.ociConfig)
            #expect(manifest.layers.map(\.mediaType) == [MediaType.ociLayerGzip, MediaType.ociLayerGzip])
            #expect(manifest.layers.map(\.digest) == sample.layers.map(\.digest))
        } else {
            #expect(result.convertedFrom == nil)
            #expect(result.manifestDigestWritten == image.manifestDigest)
            let written = try Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(image.manifestDigest.encoded)"))
            #expect(written == image.manifestBytes)
        }

        let inspect = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "oci:\(layout):tag"]))
        #expect(inspect.Digest == result.manifestDigestWritten.string)
        #expect(inspect.Layers == sample.layers.map(\.digest.string))

        let tags = try Shell.check(["umoci", "ls", "--layout", layout])
        #expect(tags.split(separator: "\n").map(String.init) == ["tag"])
        let bundle = sample.directory.file("bundle")
        try Shell.check(["umoci", "unpack", "--image", "\(layout):tag", bundle])
        for (file, contents) in sample.files {
            #expect(try String(contentsOfFile: "\(bundle)/rootfs/\(file)", encoding: .utf8) == contents)
        }
    }

    @Test func ociArchiveIsReadBySkopeo() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("image.oci.tar")
        let result = try ArchiveWriter(store: sample.store, format: .ociArchive).write(try sample.image(docker: true), to: output)
        #expect(result.format == .ociArchive)
        #expect(try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: output))) == result.sha256)
        let inspect = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "oci-archive:\(output):tag"]))
        #expect(inspect.Digest == result.manifestDigestWritten.string)
        #expect(inspect.Layers == sample.layers.map(\.digest.string))
        let members = try Shell.check(["tar", "-tf", output]).split(separator: "\n").map(String.init)
        #expect(!members.contains("manifest.json"))
    }

    @Test(arguments: [false, true])
    func podmanLoadsTheDockerArchive(docker: Bool) throws {
        let sample = try SampleImage()
        let output = sample.directory.file("image.tar")
        try ArchiveWriter(store: sample.store, format: .dockerArchive).write(try sample.image(docker: docker), to: output)
        let podman = Self.podman(in: sample.directory.file("pm1"))
        let load = try Shell.run(podman + ["load", "-i", output], timeout: .seconds(60))
        #expect(load.status == 0, "podman load failed: \(load.stderr)")
        let images = try Shell.check(podman + ["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(images.split(separator: "\n").map(String.init) == [SampleImage.name])

        // podman load prefers the tar's OCI side; the docker-archive transport reads manifest.json.
        let viaDockerArchive = Self.podman(in: sample.directory.file("pm2"))
        let pull = try Shell.run(viaDockerArchive + ["pull", "docker-archive:\(output)"], timeout: .seconds(60))
        #expect(pull.status == 0, "podman pull docker-archive: failed: \(pull.stderr)")
        let pulled = try Shell.check(viaDockerArchive + ["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(pulled.split(separator: "\n").map(String.init) == [SampleImage.name])
    }

    /// podman with private storage: nothing global changes. As root in this sandbox it needs the
    /// cgroupfs manager and file events (no systemd); podman refuses a runroot over 50 characters.
    static func podman(in root: String) -> [String] {
        [
            "podman", "--storage-driver", "vfs", "--root", "\(root)/root", "--runroot", "\(root)/run",
            "--cgroup-manager", "cgroupfs", "--events-backend", "file",
        ]
    }
}
