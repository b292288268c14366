@testable import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// An archive that takes layers from their downloads as they arrive (`LiveLayer`) must come out
/// byte for byte like one written from the store, and a download given up part-way must never
/// leave its bytes in the archive: the writer starts again from the store.
@Suite struct LiveLayerTests {
    /// Hands over a layer's bytes in pieces, then the given ending; counts what it was asked.
    final class ScriptedLayer: LiveLayer, @unchecked Sendable {
        private let lock = NSLock()
        private var script: [LiveChunk]
        private(set) var taken = 0

        init(_ script: [LiveChunk]) {
            self.script = script
        }

        /// The layer's bytes in `pieces` pieces, ending with `ending`.
        convenience init(bytes: Data, pieces: Int, ending: LiveChunk = .verified) {
            let size = max(1, (bytes.count + pieces - 1) / pieces)
            var chunks: [LiveChunk] = stride(from: 0, to: bytes.count, by: size).map { start in
                .bytes(bytes.subdata(in: start..<min(bytes.count, start + size)))
            }
            chunks.append(ending)
            self.init(chunks)
        }

        func next() -> LiveChunk {
            lock.lock()
            defer { lock.unlock() }
            taken += 1
            return script.isEmpty ? .abandoned : script.removeFirst()
        }
    }

    /// Source of live layers for the writer: the scripted layer per digest (others: the store).
    final class LiveSource: LiveLayerSource, @unchecked Sendable {
        private let lock = NSLock()
        private var layers: [Digest: ScriptedLayer]
        private(set) var asked: [Digest] = []
        private(set) var stopped = 0

        init(_ layers: [Digest: ScriptedLayer]) {
            self.layers = layers
        }

        func liveLayer(_ digest: Digest, size: Int64) -> (any LiveLayer)? {
            lock.lock()
            defer { lock.unlock() }
            asked.append(digest)
            return layers.removeValue(forKey: digest)
        }

        func stopTakingLive() {
            lock.lock()
            stopped += 1
            lock.unlock()
        }
    }

    func stage(_ sample: SampleImage, _ source: LiveSource, name: String) throws -> WriteResult {
        let output = sample.directory.file(name)
        let staged = try ArtifactWriter.stage(
            try sample.image(), format: .dockerArchive, to: output, store: sample.store,
            layerAvailability: { _, _ in }, liveLayers: source)
        return try staged.commit()
    }

    func storedBytes(_ sample: SampleImage, _ layer: Descriptor) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: sample.store.path(of: layer.digest)))
    }

    @Test func liveLayersGiveTheSameArchiveAsTheStore() throws {
        let sample = try SampleImage()
        let expected = try ArtifactWriter.write(try sample.image(), format: .dockerArchive, to: sample.directory.file("reference.tar"), store: sample.store)
        var scripted: [Digest: ScriptedLayer] = [:]
        for layer in sample.layers {
            scripted[layer.digest] = ScriptedLayer(bytes: try storedBytes(sample, layer), pieces: 3)
        }
        let source = LiveSource(scripted)
        let result = try stage(sample, source, name: "live.tar")
        #expect(result.sha256 == expected.sha256)
        #expect(result.layersTakenLive == sample.layers.count)
        #expect(source.stopped == 0)
        #expect(Set(source.asked) == Set(sample.layers.map(\.digest)), "every layer was offered live")
        #expect(scripted.values.allSatisfy { $0.taken == 4 }, "three pieces and the end, each taken once")
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test(arguments: ["abandoned", "too long", "too short"])
    func aLayerGivenUpPartWayIsRewrittenFromTheStore(how: String) throws {
        let sample = try SampleImage()
        let expected = try ArtifactWriter.write(try sample.image(), format: .dockerArchive, to: sample.directory.file("reference.tar"), store: sample.store)
        let layer = sample.layers[0]
        let bytes = try storedBytes(sample, layer)
        let half = bytes.prefix(bytes.count / 2)
        let bad: ScriptedLayer
        switch how {
        case "abandoned": bad = ScriptedLayer([.bytes(Data(half)), .abandoned])
        case "too long": bad = ScriptedLayer([.bytes(bytes), .bytes(Data("extra".utf8)), .verified])
        default: bad = ScriptedLayer([.bytes(Data(half)), .verified])
        }
        let source = LiveSource([layer.digest: bad])
        let result = try stage(sample, source, name: "live.tar")
        #expect(result.sha256 == expected.sha256, "the archive holds the store's bytes only")
        #expect(result.layersTakenLive == 0, "the archive that was kept took nothing live")
        let written = try Data(contentsOf: URL(fileURLWithPath: result.path))
        #expect(written.count == (try Data(contentsOf: URL(fileURLWithPath: sample.directory.file("reference.tar")))).count)
        #expect(source.asked.filter { $0 == layer.digest }.count == 1, "the second pass does not ask for live layers")
        #expect(source.stopped == 1, "and the source hears that nothing is taken live any more, before the second pass")
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test func aLayerGivenUpBeforeItsFirstByteIsReadFromTheStore() throws {
        let sample = try SampleImage()
        let expected = try ArtifactWriter.write(try sample.image(), format: .dockerArchive, to: sample.directory.file("reference.tar"), store: sample.store)
        let layer = sample.layers[0]
        let given = ScriptedLayer([.abandoned])
        let other = ScriptedLayer(bytes: try storedBytes(sample, sample.layers[1]), pieces: 2)
        let source = LiveSource([layer.digest: given, sample.layers[1].digest: other])
        let result = try stage(sample, source, name: "live.tar")
        #expect(result.sha256 == expected.sha256)
        #expect(given.taken == 1)
        #expect(other.taken == 3, "the next layer still came live: no second pass was needed")
        #expect(result.layersTakenLive == 1)
    }
}
