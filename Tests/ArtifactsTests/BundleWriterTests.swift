@testable import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// Several images in one output: blobs stored once, every image named, whole or nothing.
@Suite struct BundleWriterTests {
    static let otherName = "127.0.0.1:5000/c/d:tag"

    /// The sample image twice under names that share the tag: once OCI, once Docker schema 2
    /// (so the manifests differ but config and layers are shared).
    static func twoImages(_ sample: SampleImage) throws -> [ImageToWrite] {
        [try sample.image(), try sample.image(docker: true, name: otherName)]
    }

    @Test func ociLayoutHoldsBothImagesAndEachBlobOnce() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("bundle")
        let results = try BundleWriter(store: sample.store, format: .oci).write(try Self.twoImages(sample), to: output)
        #expect(results.count == 2)
        #expect(results[0].sha256 == results[1].sha256)
        #expect(results[1].convertedFrom != nil)

        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: "\(output)/index.json")))
        #expect(index.manifests.map(\.digest) == results.map(\.manifestDigestWritten))
        #expect(index.manifests.compactMap { $0.annotations?[ImageLayoutPlan.refNameAnnotation] } == [SampleImage.name, Self.otherName])
        #expect(try Shell.sha256Hex(Data(contentsOf: URL(fileURLWithPath: "\(output)/index.json"))) == results[0].sha256)
        // config + 2 shared layers + 2 manifests.
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(output)/blobs/sha256").count == 5)

        let listed = try Shell.check(["umoci", "ls", "--layout", output]).split(separator: "\n").map(String.init)
        #expect(Set(listed) == [SampleImage.name, Self.otherName])
        for (name, result) in zip([SampleImage.name, Self.otherName], results) {
            let inspect = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "oci:\(output):\(name)"]))
            #expect(inspect.Digest == result.manifestDigestWritten.string)
        }
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test func dockerArchiveHasOneManifestEntryPerImageAndEachBlobOnce() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("bundle.tar")
        let results = try BundleWriter(store: sample.store, format: .dockerArchive).write(try Self.twoImages(sample), to: output)
        #expect(try Shell.sha256Hex(Data(contentsOf: URL(fileURLWithPath: output))) == results[0].sha256)

        let members = try Shell.check(["tar", "-tf", output]).split(separator: "\n").map(String.init)
        #expect(members.count == Set(members).count, "a member appears twice: \(members)")
        #expect(members.filter { $0.hasPrefix("blobs/sha256/") && !$0.hasSuffix("/") }.count == 5)
        struct Entry: Decodable { var Config: String; var RepoTags: [String]; var Layers: [String] }
        let entries = try decodeJSON([Entry].self, try Shell.check(["tar", "-xOf", output, "manifest.json"]))
        #expect(entries.map(\.RepoTags) == [[SampleImage.name], [Self.otherName]])
        #expect(entries.allSatisfy { $0.Layers == sample.layers.map { "blobs/sha256/\($0.digest.encoded)" } })
        let repositories = try decodeJSON([String: [String: String]].self, try Shell.check(["tar", "-xOf", output, "repositories"]))
        #expect(Set(repositories.keys) == ["127.0.0.1:5000/a/b", "127.0.0.1:5000/c/d"])

        for name in [SampleImage.name, Self.otherName] {
            let inspect = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "docker-archive:\(output):\(name)"]))
            #expect(inspect.Layers == sample.diffIDs)
        }
    }

    @Test(arguments: OutputFormat.allCases)
    func twoImagesWithOneNameAreRefused(format: OutputFormat) throws {
        let sample = try SampleImage()
        let output = sample.directory.file("bundle")
        let images = [try sample.image(), try sample.image(docker: true)]
        let error = #expect(throws: ArtifactsError.self) { try BundleWriter(store: sample.store, format: format).write(images, to: output) }
        #expect(error?.message.contains(SampleImage.name) == true)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test(arguments: OutputFormat.allCases)
    func aMissingBlobInTheLastImageLeavesNothing(format: OutputFormat) throws {
        let sample = try SampleImage()
        var third = try sample.image(name: "127.0.0.1:5000/e/f:1")
        third.layers.append(Descriptor(mediaType: MediaType.ociLayerGzip, digest: try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32)), size: 10))
        let outputs = sample.directory.file("outputs")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let error = #expect(throws: ArtifactsError.self) {
            try BundleWriter(store: sample.store, format: format).write(try Self.twoImages(sample) + [third], to: "\(outputs)/bundle")
        }
        #expect(error?.code == .missingBlob)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outputs) == [])
    }

    @Test func anExistingLayoutIsNotAddedTo() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("layout")
        try OCILayoutWriter(store: sample.store).write(try sample.image(), to: output)
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(output)/index.json"))
        let error = #expect(throws: ArtifactsError.self) {
            try BundleWriter(store: sample.store, format: .oci).write(try Self.twoImages(sample), to: output)
        }
        #expect(error?.code == .outputExists)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(output)/index.json")) == before)
    }
}
