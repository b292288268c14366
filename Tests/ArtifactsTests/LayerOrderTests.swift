import Artifacts
import Foundation
import OCI
import Testing
import TestSupport

@Suite struct LayerOrderTests {
    static func layer(_ size: Int64, _ hex: Character) -> Descriptor {
        Descriptor(mediaType: MediaType.ociLayerGzip, digest: try! Digest(parsing: "sha256:" + String(repeating: hex, count: 64)), size: size)
    }

    @Test func smallestFirstWithTiesByDigest() {
        let layers = [Self.layer(30, "c"), Self.layer(10, "b"), Self.layer(20, "a"), Self.layer(10, "a")]
        #expect(LayerOrder.forWriting(layers).map(\.digest.encoded.first) == ["a", "b", "a", "c"])
        #expect(LayerOrder.forWriting(layers).map(\.size) == [10, 10, 20, 30])
        // The same set in any order gives the same order: the archive does not depend on the manifest's.
        #expect(LayerOrder.forWriting(layers.reversed()) == LayerOrder.forWriting(layers))
    }

    /// The archive holds the config, then the layers smallest first, whatever the manifest's order;
    /// manifest.json keeps the manifest's order (that is the order docker applies them in).
    @Test func theArchiveHoldsLayersSmallestFirstAndTheManifestKeepsItsOrder() throws {
        let sample = try SampleImage()
        var image = try sample.image()
        image.layers = image.layers.sorted { $0.size > $1.size }  // largest first, as many images are
        let output = sample.directory.file("ordered.tar")
        try ArchiveWriter(store: sample.store, format: .dockerArchive).write(image, to: output)
        let members = try Shell.check(["tar", "-tf", output]).split(separator: "\n").map(String.init)
        let blobs = members.filter { $0.hasPrefix("blobs/sha256/") && $0.count > "blobs/sha256/".count }
        let smallestFirst = image.layers.sorted { $0.size < $1.size }.map { "blobs/sha256/\($0.digest.encoded)" }
        #expect(Array(blobs.dropFirst().prefix(smallestFirst.count)) == smallestFirst, "\(blobs)")
        #expect(blobs.first == "blobs/sha256/\(sample.config.digest.encoded)")
        struct Entry: Decodable { var Layers: [String] }
        let entries = try JSONDecoder().decode([Entry].self, from: Data(try Shell.check(["tar", "-xOf", output, "manifest.json"]).utf8))
        #expect(entries.first?.Layers == image.layers.map { "blobs/sha256/\($0.digest.encoded)" })
    }
}
