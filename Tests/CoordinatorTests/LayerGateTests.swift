import Artifacts
@testable import Coordinator
import Foundation
import OCI
import TestSupport
import Testing

/// Which downloads the gate hands to the archive writer as they arrive, and that the writer never
/// waits forever for one.
@Suite struct LayerGateTests {
    static func digest(_ n: Int) throws -> Digest {
        try Digest(parsing: "sha256:" + String(repeating: String(n % 10), count: 64))
    }

    static func gate(streams: Bool = true) throws -> (LayerGate, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        return (LayerGate(store: ContentStore(root: directory.path), streamsToWriter: streams), directory)
    }

    @Test func theFirstDownloadFromTheFirstByteGetsAFeedTheWriterClaimsOnce() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        let layer = try Self.digest(1)
        gate.downloadsRunning(1)
        let feed = gate.downloadStarting(layer, size: 10, fromFirstByte: true)
        #expect(feed != nil)
        #expect(gate.downloadStarting(layer, size: 10, fromFirstByte: true) == nil, "a second download of the same layer (another vantage) gets none")
        #expect(gate.liveLayer(layer, size: 10) === feed)
        gate.close()
        #expect(gate.liveLayer(layer, size: 10) == nil, "claimed once")
    }

    @Test func noFeedForAResumeOrWithoutAnArchiveWriter() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        gate.downloadsRunning(1)
        #expect(gate.downloadStarting(try Self.digest(2), size: 10, fromFirstByte: false) == nil, "a resumed partial has bytes the writer never saw")
        let (layout, _other) = try Self.gate(streams: false)
        _ = _other
        layout.downloadsRunning(1)
        #expect(layout.downloadStarting(try Self.digest(3), size: 10, fromFirstByte: true) == nil, "an OCI layout takes nothing live")
    }

    @Test func whileDownloadsOverlapOnlyTheLayerTheWriterWaitsForGetsAFeed() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        let waited = try Self.digest(4), ahead = try Self.digest(5)
        gate.downloadsRunning(2)
        #expect(gate.downloadStarting(ahead, size: 10, fromFirstByte: true) == nil, "ahead of the writer: to the store alone")
        let writer = Thread { _ = gate.liveLayer(waited, size: 1) }
        writer.start()
        // Give the writer time to wait at the gate for `waited`.
        var feed: LayerFeed?
        for _ in 0..<200 where feed == nil {
            Thread.sleep(forTimeInterval: 0.01)
            if gate.isWriterWaiting(for: waited) { feed = gate.downloadStarting(waited, size: 10, fromFirstByte: true) }
        }
        #expect(feed != nil, "the writer waits for this very layer")
        gate.close()
    }

    @Test func theWriterStopsWaitingWhenTheGateClosesAndFeedsAreReleasedWhenItLeaves() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        gate.downloadsRunning(1)
        let feed = try #require(gate.downloadStarting(try Self.digest(6), size: 10, fromFirstByte: true))
        let answered = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = gate.liveLayer(try! Self.digest(7), size: 1)
            answered.signal()
        }
        #expect(answered.wait(timeout: .now() + 0.2) == .timedOut, "a layer whose download has not started is waited for")
        gate.close()
        #expect(answered.wait(timeout: .now() + 5) == .success)
        gate.writerFinished()
        #expect(feed.next().isAbandoned, "a writer that left abandons every feed")
        #expect(gate.downloadStarting(try Self.digest(8), size: 10, fromFirstByte: true) == nil)
    }

    @Test func closingLetsTheWriterGoOnAbortingStopsIt() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        let missing = try Self.digest(9)
        let closed = try Self.gate()
        closed.0.close()
        #expect(throws: Never.self, "closed after a fetch that finished: the writer goes on and reports what is missing") {
            try closed.0.wait(for: missing, size: 1)
        }
        gate.abort()
        #expect(throws: CancellationError.self, "aborted: the output is thrown away, the writer stops") {
            try gate.wait(for: missing, size: 1)
        }
        #expect(gate.liveLayer(missing, size: 1) == nil)
    }

    @Test func noNewFeedWhileAnEarlierOneWaitsUnclaimed() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        gate.downloadsRunning(1)
        let first = try #require(gate.downloadStarting(try Self.digest(1), size: 10, fromFirstByte: true))
        #expect(gate.downloadStarting(try Self.digest(2), size: 10, fromFirstByte: true) == nil,
                "a second feed nobody reads yet would hold memory beside the first: to the store instead")
        #expect(gate.liveLayer(try Self.digest(1), size: 10) === first)
        #expect(gate.downloadStarting(try Self.digest(3), size: 10, fromFirstByte: true) != nil, "once the writer has it, the next may have one")
        gate.close()
    }

    @Test func aWriterThatStopsTakingLiveReleasesEveryFeed() throws {
        let (gate, _directory) = try Self.gate()
        _ = _directory
        gate.downloadsRunning(1)
        let claimed = try #require(gate.downloadStarting(try Self.digest(1), size: 10, fromFirstByte: true))
        #expect(gate.liveLayer(try Self.digest(1), size: 10) === claimed)
        let next = try #require(gate.downloadStarting(try Self.digest(2), size: 10, fromFirstByte: true))
        gate.stopTakingLive()
        #expect(claimed.next().isAbandoned, "the layer the writer was reading")
        #expect(next.next().isAbandoned, "and the one it had not reached")
        #expect(gate.liveLayer(try Self.digest(2), size: 10) == nil)
        #expect(gate.downloadStarting(try Self.digest(3), size: 10, fromFirstByte: true) == nil)
    }
}
