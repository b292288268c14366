import Artifacts
@testable import Coordinator
import Foundation
import Testing

/// `LayerFeed` with real threads, as the download and the writer use it: bytes gathered into
/// pieces and handed over in order, and the waits the state machine orders actually end. What
/// waits for what is `LayerFeedStateMachineTests`'; nothing here depends on timing.
@Suite struct LayerFeedTests {
    /// Runs `body` on a thread of its own.
    final class Background: Sendable {
        private let finished = DispatchSemaphore(value: 0)

        init(_ body: @escaping @Sendable () -> Void) {
            Thread.detachNewThread { [finished] in
                body()
                finished.signal()
            }
        }

        /// Waits up to `seconds` for the body to return (only ever a bound on a hang).
        func wait(_ seconds: Double = 10) -> Bool {
            finished.wait(timeout: .now() + seconds) == .success
        }
    }

    /// What a writer thread drained; read only after it returned.
    final class Drained: @unchecked Sendable {
        private(set) var bytes = Data()
        private(set) var ending: LiveChunk?
        func set(_ result: (Data, LiveChunk)) {
            bytes = result.0
            ending = result.1
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

    /// Blocks until the download has reported waiting for the writer. `takeHeldBack` takes the
    /// feed's lock, which the download holds from deciding to wait until it waits: once it
    /// answers true, the download is waiting (or already woken).
    static func untilHeldBack(_ feed: LayerFeed) {
        while !feed.takeHeldBack() { Thread.sleep(forTimeInterval: 0.001) }
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

    @Test func bytesBeyondTheLayersSizeAreNotQueued() {
        let feed = LayerFeed(expectedSize: 20, capacity: 64, pieceSize: 8)
        feed.begin(appending: false)
        Self.send(feed, Array(repeating: 8, count: 16))
        Self.send(feed, Array(repeating: 8, count: 16))
        feed.end()
        feed.verified()
        #expect(feed.next().isAbandoned, "a body longer than the layer never verifies")
    }

    @Test func aDownloadFarLargerThanTheQueuePassesWholeToAWriterOnAnotherThread() {
        let feed = LayerFeed(capacity: 16, pieceSize: 8, patience: 3600)
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        feed.begin(appending: false)
        let download = Background {
            for start in stride(from: 0, to: bytes.count, by: 13) {
                Self.send(feed, Array(bytes[start..<min(bytes.count, start + 13)]))
            }
            feed.end()
            feed.verified()
        }
        let drained = Drained()
        let writer = Background { drained.set(Self.drain(feed)) }
        #expect(download.wait())
        #expect(writer.wait())
        #expect(drained.bytes == Data(bytes), "every byte, in order, through a queue of two pieces")
        #expect(drained.ending?.isVerified == true)
    }

    @Test func abandonReleasesADownloadWaitingForRoom() {
        // Patience far longer than the test: only the wake from `abandon` can release the download.
        let feed = LayerFeed(capacity: 8, pieceSize: 8, patience: 3600, othersRunning: { false })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 7, count: 80))
            feed.end()
        }
        Self.untilHeldBack(feed)
        feed.abandon()
        #expect(download.wait(), "the writer is gone: the download is not held any more")
        #expect(feed.next().isAbandoned)
    }

    @Test func theWriterTakingAPieceReleasesADownloadWaitingForRoom() {
        let feed = LayerFeed(capacity: 8, pieceSize: 8, patience: 3600, othersRunning: { false })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 9, count: 16))
            feed.end()
        }
        Self.untilHeldBack(feed)
        #expect(feed.next().isBytes(count: 8))
        #expect(download.wait(), "room was made: the second piece is queued")
        feed.verified()
        #expect(feed.next().isBytes(count: 8))
        #expect(feed.next().isVerified)
    }

    @Test func aFullFeedAheadOfTheWriterIsGivenUpWhileOthersRun() {
        let feed = LayerFeed(capacity: 16, pieceSize: 8, patience: 0.001, othersRunning: { true })
        feed.begin(appending: false)
        let download = Background {
            Self.send(feed, Array(repeating: 5, count: 64))
            feed.end()
        }
        #expect(download.wait(), "the download goes on alone instead of waiting for a writer busy elsewhere")
        #expect(feed.next().isAbandoned, "the writer then reads the layer from the store")
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
