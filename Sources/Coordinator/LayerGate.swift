import Artifacts
import Foundation
import OCI

/// Lets an output be assembled while its layers are still downloading: the writer, on a thread of
/// its own, waits here for each layer until the store holds it whole; the fetch says when a layer
/// landed, and `close()` ends every wait once nothing more will arrive (the writer then reports
/// what is missing, or the output is discarded).
///
/// With `streamsToWriter` (an archive is being written), a download that starts from a layer's
/// first byte also gets a `LayerFeed`, and the writer, reaching that layer, takes its bytes from
/// the feed as they arrive instead of reading the stored copy back (`liveLayer`).
///
/// Every decision is `StateMachine`'s; this class locks around it, asks the store the one thing
/// the machine is told (whether a layer is stored), waits where it says wait, and wakes the writer
/// after each event. It never calls a feed with its lock held (feeds to abandon are abandoned after
/// it is released), and a feed never calls the gate with its own held: no lock order to keep.
///
/// Orders the pipeline keeps (see docs/ARCHITECTURE.md):
/// - `abort()` before waiting for the staged output to discard it (`LayerStream.abandon`): a
///   writer waiting here for a layer the failed fetch will never bring ends only when the gate is
///   aborted or closed.
/// - a writer that abandons a live layer calls `stopTakingLive()` before it waits here again
///   (`ArchiveWriter`): every feed is released, so no download waits for a writer that waits for it.
/// - the fetcher commits a blob before `LayerFeed.verified()`, and abandons every feed it did not
///   verify: the writer finishes a live layer only once its bytes are the ones in the store.
final class LayerGate: LiveLayerSource, @unchecked Sendable {
    // Safety: `machine` is read and written only with `condition` locked.
    private let store: ContentStore
    private let condition = NSCondition()
    private var machine: StateMachine<LayerFeed>

    init(store: ContentStore, streamsToWriter: Bool = false) {
        self.store = store
        self.machine = StateMachine(streamsToWriter: streamsToWriter)
    }

    /// Blocks until the layer is in the store, or the gate is closed; throws once it is aborted.
    func wait(for digest: Digest, size: Int64) throws {
        condition.lock()
        var action = machine.writerNeeds(digest, stored: store.contains(digest, size: size))
        while action == .wait {
            condition.wait()
            action = machine.writerNeeds(digest, stored: store.contains(digest, size: size))
        }
        condition.unlock()
        if action == .cancel { throw CancellationError() }
    }

    /// The fetch looked at the store and will download `digests`: a layer that is neither among
    /// them nor in the store (it left the cache after the fetch looked) is not waited for.
    func fetchPlanned(_ digests: Set<Digest>) {
        event { $0.fetchPlanned(digests) }
    }

    /// A layer was committed to the store: wake the writer to look again. The lock is taken even
    /// though no state changes: the writer looks at the store with it held, so the wake comes
    /// either before that look (which then sees the commit) or while the writer waits.
    func layerStored() {
        event { _ in }
    }

    /// No more layers will arrive (the fetch finished).
    func close() {
        event { $0.close() }
    }

    /// The fetch failed or was cancelled and the output will be discarded: every wait ends, and
    /// the writer's next wait throws rather than let it copy what the store holds.
    func abort() {
        event { $0.abort() }
    }

    /// The fetcher: the download of `digest` (`size` bytes) starts, from the layer's first byte or
    /// not. Returns the feed to tap when the writer is to take this layer live (see
    /// `StateMachine.downloadStarting`).
    func downloadStarting(_ digest: Digest, size: Int64, fromFirstByte: Bool) -> LayerFeed? {
        event { machine in
            machine.downloadStarting(digest, fromFirstByte: fromFirstByte) {
                LayerFeed(expectedSize: size, othersRunning: { [self] in overlapping })
            }
        }
    }

    /// The fetcher: how many downloads run now (counting one about to start).
    func downloadsRunning(_ count: Int) {
        condition.lock()
        machine.downloadsRunning(count)
        condition.unlock()
    }

    /// Whether a download had to wait for the writer since the last call: the writer, not the
    /// route, set the pace, and more downloads side by side would not help.
    func writerSetPace() -> Bool {
        condition.lock()
        let feeds = machine.feeds
        condition.unlock()
        // Every feed is asked (no short cut): each one's answer is reset by asking.
        return feeds.map { $0.takeHeldBack() }.contains(true)
    }

    /// Whether several downloads run at once.
    private var overlapping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return machine.overlapping
    }

    /// The writer, reaching a layer: the layer's feed if its download streams to the writer.
    /// Blocks until that download has started, the store holds the layer, or the gate is closed.
    func liveLayer(_ digest: Digest, size: Int64) -> (any LiveLayer)? {
        condition.lock()
        var action = machine.writerReaches(digest, stored: store.contains(digest, size: size))
        while case .wait = action {
            // The writer waits for this very layer: a download of it starting now gets a feed.
            condition.wait()
            action = machine.writerReaches(digest, stored: store.contains(digest, size: size))
        }
        condition.unlock()
        guard case .takeLive(let feed) = action else { return nil }
        return feed
    }

    /// The writer finished or failed: nothing takes from feeds any more, so none may hold a
    /// download back, and later downloads get none.
    func writerFinished() {
        let feeds = event { $0.writerLeaves() }
        for feed in feeds { feed.abandon() }
    }

    /// The writer starts the archive again from the store: the same as leaving, for the feeds.
    func stopTakingLive() {
        writerFinished()
    }

    /// Passes every event on, and wakes the writer when a blob has been committed.
    func forwarding(_ events: PullEventSink?) -> PullEventSink {
        { [self] event in
            if case .blobFinished = event { layerStored() }
            events?(event)
        }
    }

    var availability: LayerAvailability {
        { [self] digest, size in try wait(for: digest, size: size) }
    }

    /// One event into the machine under the lock; then, with the lock released, the writer is
    /// woken to look again.
    private func event<T>(_ body: (inout StateMachine<LayerFeed>) -> T) -> T {
        condition.lock()
        let result = body(&machine)
        condition.unlock()
        condition.broadcast()
        return result
    }
}

extension LayerGate {
    /// Whether the writer waits in `liveLayer` for `digest` now (for tests: a wait observed, not guessed).
    func isWriterWaiting(for digest: Digest) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return machine.writerWaitsFor == digest
    }
}
