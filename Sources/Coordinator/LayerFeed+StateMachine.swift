import Foundation

extension LayerFeed {
    /// Every decision of a `LayerFeed`, with no lock, thread, clock or callback: each event (from
    /// the download, the writer or the fetcher) changes the state and returns what the feed must do
    /// next (wait, wake the other side, hand bytes over). `LayerFeed` holds the lock around each call
    /// and carries the action out; the tests replay events without threads.
    struct StateMachine {
        enum Phase: Equatable {
            /// Bytes may still arrive; the writer may not finish the layer yet.
            case open
            /// The download was verified and committed: once the queue is empty, the layer is whole.
            case verified
            /// The download will not hand over the layer whole and verified, or the writer is gone.
            case abandoned
        }

        /// What the download's thread does with a piece it offers.
        enum OfferAction: Equatable {
            /// Queued: wake the writer.
            case queued
            /// Nothing reads this feed any more (abandoned, or verified already): drop the piece.
            case dropped
            /// The queue is full and the writer reads this feed: wait until it takes a piece, then offer again.
            case waitForWriter
            /// The queue is full and the writer has not come yet: wait until it takes a piece (offer
            /// again) or at most `patience` seconds (then `patienceRanOut`).
            case waitForWriterOrPatience
            /// The feed was given up just now (it ran ahead of a writer busy elsewhere): drop the
            /// piece and wake everyone, the download goes on into the store alone.
            case gaveUp
        }

        /// What the download's thread does with bytes just received.
        enum ArrivalAction: Equatable {
            /// Gather them into pieces.
            case gather
            /// Ignore them: the feed is not open.
            case ignore
            /// More bytes than the layer has: the feed was abandoned just now; wake everyone.
            case gaveUp
        }

        /// What the writer does when it asks for the layer's next bytes.
        enum TakeAction: Equatable {
            /// Hand these bytes over, and wake the download (room was freed).
            case bytes(Data)
            /// Nothing queued yet and the layer not finished: wait until woken, then ask again.
            case waitForBytes
            /// Every byte was handed over and the download verified.
            case verified
            /// Throw away what was taken: the layer comes from the store.
            case abandoned
        }

        /// Whether an event must wake every waiter (the download waiting for room, the writer for bytes).
        enum Wake: Equatable {
            case nobody
            case everyone
        }

        let expectedSize: Int64?
        let capacity: Int
        private(set) var phase = Phase.open
        private var queue: [Data] = []
        private var head = 0
        private(set) var queuedBytes = 0
        private var writerCame = false
        private var bodies = 0
        private var received: Int64 = 0
        private var heldBack = false

        init(expectedSize: Int64?, capacity: Int) {
            self.expectedSize = expectedSize
            self.capacity = capacity
        }

        // MARK: the download's side

        /// A response body starts: only the first, written from the file's first byte, is handed over.
        mutating func bodyBegins(appending: Bool) -> Wake {
            bodies += 1
            return bodies == 1 && !appending ? .nobody : abandon()
        }

        /// `count` more bytes of the body arrived (before they are gathered into pieces).
        mutating func bytesArrive(_ count: Int) -> ArrivalAction {
            guard phase == .open else { return .ignore }
            received += Int64(count)
            if let expectedSize, received > expectedSize {
                _ = abandon()
                return .gaveUp
            }
            return .gather
        }

        /// The download offers a whole piece. A full queue (one that holds something and has no
        /// room for the piece) makes the download wait, and counts as the writer setting the pace.
        mutating func offer(_ piece: Data) -> OfferAction {
            guard phase == .open else { return .dropped }
            guard queuedBytes == 0 || queuedBytes + piece.count <= capacity else {
                heldBack = true
                return writerCame ? .waitForWriter : .waitForWriterOrPatience
            }
            queue.append(piece)
            queuedBytes += piece.count
            return .queued
        }

        /// The download waited `patience` seconds for a writer that had not come: while other
        /// downloads run beside this one, the feed is given up; otherwise the piece is offered again.
        mutating func patienceRanOut(_ piece: Data, othersRunning: Bool) -> OfferAction {
            let stillFull = phase == .open && queuedBytes > 0 && queuedBytes + piece.count > capacity
            guard stillFull, !writerCame, othersRunning else { return offer(piece) }
            _ = abandon()
            return .gaveUp
        }

        /// Whether the download waited for the writer since the last call.
        mutating func takeHeldBack() -> Bool {
            defer { heldBack = false }
            return heldBack
        }

        // MARK: the fetcher's side

        /// The blob is verified and committed: the writer may finish the layer.
        mutating func verified() -> Wake {
            if phase == .open { phase = .verified }
            return .everyone
        }

        /// The download will not hand the layer over whole and verified, or the writer is gone:
        /// frees the queue.
        mutating func abandon() -> Wake {
            if phase == .open {
                phase = .abandoned
                queue = []
                head = 0
                queuedBytes = 0
            }
            return .everyone
        }

        // MARK: the writer's side

        mutating func writerTakes() -> TakeAction {
            writerCame = true
            if phase == .abandoned { return .abandoned }
            guard head < queue.count else { return phase == .verified ? .verified : .waitForBytes }
            let piece = queue[head]
            queue[head] = Data()
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            queuedBytes -= piece.count
            return .bytes(piece)
        }
    }
}
