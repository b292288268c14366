import Artifacts
@testable import Coordinator
import Foundation
import Testing

/// `LayerFeed` between a download (its `BodyTap` side, on the transfer's thread) and the archive
/// writer (its `LiveLayer` side): order, the ending, abandonment, and who waits for whom.
@Suite struct LayerFeedTests {
    /// Runs `body` on a thread of its own; `done` tells whether it has returned.
    final class Background: @unchecked Sendable {
        private let finished = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var returned = false

        init(_ body: @escaping @Sendable () -> Void) {
            Thread.detachNewThread { [self] in
                body()
                lock.lock()
                returned = true
                lock.unlock()
                finished.signal()
            }
        }

        var done: Bool {
            lock.lock()
            defer { lock.unlock() }
            return returned
        }

        /// Waits up to `seconds` for the body to return.
        func wait(_ seconds: Double) -> Bool {
            finished.wait(timeout: .now() + seconds) == .success
        }
    }

    static func send(_ feed: LayerFeed, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed.receive($0) }
    }

    /// Everything the writer side hands over until the ending, and the ending.
    static func drain(_ feed: LayerFeed) -> (Data, LiveChunk) {
        var all = Data()
        while true {
            switch feed.next() {
            case .bytes(let data): all.append(data)
            case let ending: return (all, ending)
            }
        }
    }

    @Test func bytesArriveInOrderInPiecesAndEndVerified() {
        let feed = LayerFeed(capacity: 64, pieceSize: 16)
        let bytes = (0..<40).map { UInt8($0) }
        feed.begin(appending: false)
        Self.send(feed, Array(bytes[0..<7]))
        Self.send(feed, Array(bytes[7..<40]))
        feed.end()
        feed.verified()
        #expect(feed.next().isBytes(count: 16), "whole pieces first")
        #expect(feed.next().isBytes(count: 16))
        let (rest, ending) = Self.drain(feed)
        #expect(rest == Data(bytes[32..<40]), "the tail at the end of the body")
        #expect(ending.isVerified)

    }

    @Test func nothingIsVerifiedBeforeTheFetcherSaysSo() {
        let feed = LayerFeed(capacity: 64, pieceSize: 8)
        feed.begin(appending: false)
        Self.send(feed, Array(repeating: 1, count: 8))
        feed.end()
        let reader = Background {
            _ = Self.drain(feed)
        }
        #expect(!reader.wait(0.3), "the writer waits for the verdict after the last byte")
        feed.verified()
        #expect(reader.wait(5))
    }

    @Test(arguments: [false, true])
    func aSecondBodyOrAnAppendAbandonsTheFeed(appendingFirst: Bool) {
        let feed = LayerFeed(capacity: 64, pieceSize: 8)
        feed.begin(appending: appendingFirst)
        if !appendingFirst {
            Self.send(feed, Array(repeating: 2, count: 8))
            feed.end()
            feed.begin(appending: true)
        }
        Self.send(feed, Array(repeating: 3, count: 8))
        feed.verified()
        #expect(feed.next().isAbandoned, "a resumed or restarted body is never handed over")

    }

    @Test func aFullFeedWaitsForTheWriterWhileTheDownloadIsAlone() {
        let feed = LayerFeed(capacity: 16, pieceSize: 8, patience: 0.02, othersRunning: { false })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 4, count: 64))
            feed.end()
        }
        #expect(!download.wait(0.3), "held back: the writer has not taken anything yet")
        var taken = Data()
        for _ in 0..<8 {
            if case .bytes(let data) = feed.next() { taken.append(data) }
        }
        #expect(download.wait(5))
        #expect(taken == Data(repeating: 4, count: 64), "nothing was dropped while it waited")
    }

    @Test func aFullFeedAheadOfTheWriterIsGivenUpWhileOthersRun() {
        let feed = LayerFeed(capacity: 16, pieceSize: 8, patience: 0.02, othersRunning: { true })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 5, count: 64))
            feed.end()
        }
        #expect(download.wait(5), "the download goes on alone instead of waiting for a writer busy elsewhere")
        #expect(feed.next().isAbandoned, "the writer then reads the layer from the store")
    }

    @Test func onceTheWriterCameAFullFeedWaitsForItAndSaysSo() {
        let held = Counter()
        let feed = LayerFeed(capacity: 16, pieceSize: 8, patience: 10, othersRunning: { true }, heldBack: { held.add() })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 6, count: 64))
            feed.end()
        }
        #expect(feed.next().isBytes(count: 8), "the writer has come")
        #expect(!download.wait(0.3), "a full feed the writer reads waits for it, others running or not")
        #expect(held.value > 0, "and the fetcher hears that the writer set the pace")
        var rest = Data()
        for _ in 0..<7 {
            if case .bytes(let data) = feed.next() { rest.append(data) }
        }
        #expect(download.wait(5))
        feed.verified()
        #expect(rest.count == 56)
        #expect(feed.next().isVerified)
    }

    @Test func abandonReleasesADownloadWaitingForRoom() {
        let feed = LayerFeed(capacity: 8, pieceSize: 8, othersRunning: { false })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 7, count: 80))
            feed.end()
        }
        #expect(!download.wait(0.2))
        feed.abandon()
        #expect(download.wait(5), "the writer is gone: the download is not held any more")
        #expect(feed.next().isAbandoned)
    }

    @Test func bytesBeyondTheLayersSizeAbandonTheFeed() {
        let feed = LayerFeed(expectedSize: 20, capacity: 64, pieceSize: 8)
        feed.begin(appending: false)
        Self.send(feed, Array(repeating: 8, count: 16))
        Self.send(feed, Array(repeating: 8, count: 16))
        feed.end()
        feed.verified()
        #expect(feed.next().isAbandoned, "a body longer than the layer never verifies")
    }

    @Test func waitingForAWriterThatHasNotComeCountsAsTheWritersPace() {
        let held = Counter()
        let feed = LayerFeed(capacity: 8, pieceSize: 8, othersRunning: { false }, heldBack: { held.add() })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 9, count: 32))
            feed.end()
        }
        #expect(!download.wait(0.2))
        #expect(held.value > 0, "the ramp must not read a full feed as a slow route")
        feed.abandon()
        #expect(download.wait(5))
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() {
            lock.lock()
            count += 1
            lock.unlock()
        }
        var value: Int {
            lock.lock()
            defer { lock.unlock() }
            return count
        }
    }
}

extension LiveChunk {
    func isBytes(count: Int) -> Bool {
        if case .bytes(let data) = self { return data.count == count }
        return false
    }

    var isVerified: Bool {
        if case .verified = self { return true }
        return false
    }

    var isAbandoned: Bool {
        if case .abandoned = self { return true }
        return false
    }
}
