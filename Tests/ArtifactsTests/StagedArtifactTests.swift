@testable import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// An output staged while its layers are still arriving: nothing appears at the destination
/// until `commit()`, `discard()` leaves the destination as it was, and each layer is waited for
/// only when the writer reaches it.
@Suite struct StagedArtifactTests {
    /// Final class so the availability closure can record what it was asked, in order.
    final class Arrivals: @unchecked Sendable {
        private let lock = NSLock()
        private var asked: [Digest] = []
        let held: [Digest: String]
        let store: ContentStore

        /// `held` maps layers taken out of the store to where they were put aside.
        init(held: [Digest: String], store: ContentStore) {
            self.held = held
            self.store = store
        }

        /// Puts a held layer back the first time the writer asks for it, as a download finishing would.
        func arrive(_ digest: Digest, _ size: Int64) throws {
            lock.lock()
            asked.append(digest)
            lock.unlock()
            if let aside = held[digest], !FileManager.default.fileExists(atPath: store.path(of: digest)) {
                try FileManager.default.moveItem(atPath: aside, toPath: store.path(of: digest))
            }
        }

        var order: [Digest] {
            lock.lock()
            defer { lock.unlock() }
            return asked
        }
    }

    static func holdBack(_ sample: SampleImage) throws -> [Digest: String] {
        var held: [Digest: String] = [:]
        for layer in sample.layers {
            let aside = sample.directory.file("aside-\(layer.digest.encoded)")
            try FileManager.default.moveItem(atPath: sample.store.path(of: layer.digest), toPath: aside)
            held[layer.digest] = aside
        }
        return held
    }

    @Test(arguments: OutputFormat.allCases)
    func layersAreWaitedForAndNothingAppearsBeforeCommit(format: OutputFormat) throws {
        let sample = try SampleImage()
        let image = try sample.image()
        let reference = sample.directory.file("reference-\(format.rawValue)")
        let expected = try ArtifactWriter.write(image, format: format, to: reference, store: sample.store)

        let arrivals = Arrivals(held: try Self.holdBack(sample), store: sample.store)
        let output = sample.directory.file("staged-\(format.rawValue)")
        let staged = try ArtifactWriter.stage(
            image, format: format, to: output, store: sample.store, layerAvailability: { try arrivals.arrive($0, $1) })
        #expect(arrivals.order == sample.layers.map(\.digest), "each layer asked for, in manifest order")
        #expect(!FileManager.default.fileExists(atPath: output), "nothing at the destination before commit")
        let result = try staged.commit()
        #expect(result.sha256 == expected.sha256, "the same bytes as a write with every layer present")
        #expect(FileManager.default.fileExists(atPath: output))
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test func discardLeavesTheDestinationAsItWas() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("image.tar")
        try Data("previous".utf8).write(to: URL(fileURLWithPath: output))
        let staged = try ArtifactWriter.stage(try sample.image(), format: .dockerArchive, to: output, store: sample.store, layerAvailability: { _, _ in })
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).count == 1, "the staged archive waits next to the destination")
        staged.discard()
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "previous")
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test(arguments: [OutputFormat.dockerArchive, .ociArchive])
    func aLayerThatNeverArrivesFailsTheStagingAndLeavesNothing(format: OutputFormat) throws {
        let sample = try SampleImage()
        _ = try Self.holdBack(sample)
        let output = sample.directory.file("image.tar")
        let error = #expect(throws: ArtifactsError.self) {
            // The gate closes without the layer: the writer reports it missing.
            _ = try ArtifactWriter.stage(try sample.image(), format: format, to: output, store: sample.store, layerAvailability: { _, _ in })
        }
        #expect(error?.code == .missingBlob)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test func abandoningTheWaitAbandonsTheOutput() throws {
        struct Interrupted: Error {}
        let sample = try SampleImage()
        let output = sample.directory.file("image.tar")
        #expect(throws: Interrupted.self) {
            _ = try ArtifactWriter.stage(try sample.image(), format: .dockerArchive, to: output, store: sample.store, layerAvailability: { _, _ in throw Interrupted() })
        }
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }
}
