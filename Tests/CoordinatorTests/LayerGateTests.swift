import Artifacts
@testable import Coordinator
import Foundation
import OCI
import TestSupport
import Testing

/// `LayerGate` as the fetcher and the writer use it: that it carries out what its state machine
/// decides (feeds handed out and abandoned, waits that end). The decisions themselves are
/// `LayerGateStateMachineTests`'; nothing here depends on timing.
@Suite struct LayerGateTests {
    static func digest(_ n: Int) throws -> Digest {
        try Digest(parsing: "sha256:" + String(repeating: String(n % 10), count: 64))
    }

    static func gate(streams: Bool = true) throws -> (LayerGate, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        return (LayerGate(store: ContentStore(root: directory.path), streamsToWriter: streams), directory)
    }

    /// What the writer's thread took; read only after it signalled.
    final class Taken: @unchecked Sendable {
        var layer: (any LiveLayer)?
    }

    /// Blocks until the writer waits at the gate in `liveLayer` for `digest`.
    static func untilWriterWaits(_ gate: LayerGate, for digest: Digest) {
        while !gate.isWriterWaiting(for: digest) { Thread.sleep(forTimeInterval: 0.001) }
    }

    @Test func theWriterTakesTheFeedItsDownloadGotAndALeavingWriterAbandonsEveryFeed() throws {
        let (gate, directory) = try Self.gate()
        defer { withExtendedLifetime(directory) {} }
        gate.downloadsRunning(1)
        let claimed = try #require(gate.downloadStarting(try Self.digest(1), size: 10, fromFirstByte: true))
        #expect(gate.liveLayer(try Self.digest(1), size: 10) === claimed)
        let next = try #require(gate.downloadStarting(try Self.digest(2), size: 10, fromFirstByte: true))
        gate.stopTakingLive()
        #expect(claimed.next().isAbandoned, "the layer the writer was reading")
        #expect(next.next().isAbandoned, "and the one it had not reached")
        #expect(gate.downloadStarting(try Self.digest(3), size: 10, fromFirstByte: true) == nil)
    }

    @Test func closingLetsTheWriterGoOnAbortingStopsIt() throws {
        let (gate, directory) = try Self.gate()
        defer { withExtendedLifetime(directory) {} }
        let missing = try Self.digest(9)
        let (closed, other) = try Self.gate()
        defer { withExtendedLifetime(other) {} }
        closed.close()
        #expect(throws: Never.self, "closed after a fetch that finished: the writer goes on and reports what is missing") {
            try closed.wait(for: missing, size: 1)
        }
        gate.abort()
        #expect(throws: CancellationError.self, "aborted: the output is thrown away, the writer stops") {
            try gate.wait(for: missing, size: 1)
        }
        #expect(gate.liveLayer(missing, size: 1) == nil)
    }

    @Test func aWriterWaitingForALayerIsWokenByItsDownloadStarting() throws {
        let (gate, directory) = try Self.gate()
        defer { withExtendedLifetime(directory) {} }
        let layer = try Self.digest(4)
        gate.downloadsRunning(2)
        let answered = DispatchSemaphore(value: 0)
        let taken = Taken()
        Thread.detachNewThread {
            taken.layer = gate.liveLayer(layer, size: 10)
            answered.signal()
        }
        Self.untilWriterWaits(gate, for: layer)
        let feed = gate.downloadStarting(layer, size: 10, fromFirstByte: true)
        #expect(feed != nil, "downloads overlap, but the writer waits for this very layer")
        #expect(answered.wait(timeout: .now() + 10) == .success)
        #expect(taken.layer === feed)
    }

    @Test func aWriterWaitingForALayerIsReleasedWhenTheGateCloses() throws {
        let (gate, directory) = try Self.gate()
        defer { withExtendedLifetime(directory) {} }
        let layer = try Self.digest(7)
        let answered = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = gate.liveLayer(layer, size: 1)
            answered.signal()
        }
        Self.untilWriterWaits(gate, for: layer)
        gate.close()
        #expect(answered.wait(timeout: .now() + 10) == .success)
    }
}
