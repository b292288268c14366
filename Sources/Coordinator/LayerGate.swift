import Artifacts
import Foundation
import OCI

/// Lets an output be assembled while its layers are still downloading: the writer, on a blocking
/// thread, waits here for each layer until the store holds it whole; the fetch says when a layer
/// landed, and `close()` ends every wait once nothing more will arrive (the writer then reports
/// what is missing, or the output is discarded).
///
/// With `streamsToWriter` (an archive is being written), a download that starts from a layer's
/// first byte also gets a `LayerFeed`, and the writer, reaching that layer, takes its bytes from
/// the feed as they arrive instead of reading the stored copy back (`liveLayer`).
final class LayerGate: LiveLayerSource, @unchecked Sendable {
    // Safety: every `var` is read and written only with `condition` locked.
    private let store: ContentStore
    private let streamsToWriter: Bool
    private let condition = NSCondition()
    private var closed = false
    private var aborted = false
    private var writerGone = false
    /// Layers whose download has started: with the feed the writer has not claimed yet, or nil.
    private var downloads: [Digest: LayerFeed?] = [:]
    private var feeds: [LayerFeed] = []
    private var downloadsRunning = 0
    private var writerSetThePace = false
    private var writerWaitsFor: Digest?
    /// The layers the fetch will download, once it has looked at the store (nil before).
    private var planned: Set<Digest>?

    init(store: ContentStore, streamsToWriter: Bool = false) {
        self.store = store
        self.streamsToWriter = streamsToWriter
    }

    /// Blocks until the layer is in the store, or the gate is closed; throws once it is aborted.
    func wait(for digest: Digest, size: Int64) throws {
        condition.lock()
        defer { condition.unlock() }
        while !closed, !store.contains(digest, size: size), !willNeverArrive(digest) {
            condition.wait()
        }
        if aborted { throw CancellationError() }
    }

    /// The fetch looked at the store and will download `digests`: a layer that is neither among
    /// them nor in the store (it left the cache after the fetch looked) is not waited for.
    func fetchPlanned(_ digests: Set<Digest>) {
        condition.lock()
        planned = digests
        condition.broadcast()
        condition.unlock()
    }

    /// Whether nothing will bring `digest` to the store: the fetch planned without it (it was in
    /// the store then) and no download of it started. Call with `condition` locked.
    private func willNeverArrive(_ digest: Digest) -> Bool {
        guard let planned else { return false }
        return !planned.contains(digest) && downloads[digest] == nil
    }

    /// A layer was committed to the store: wake the writer to look again.
    func layerStored() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// No more layers will arrive (the fetch finished).
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The fetch failed or was cancelled and the output will be discarded: every wait ends, and
    /// the writer's next wait throws rather than let it copy what the store holds.
    func abort() {
        condition.lock()
        closed = true
        aborted = true
        condition.broadcast()
        condition.unlock()
    }

    /// The fetcher: the download of `digest` (`size` bytes) starts, from the layer's first byte or
    /// not. Returns the feed to tap when the writer is to take this layer live: only the first
    /// download of a layer gets one, only while a writer is there to take it, only while no
    /// earlier feed waits unclaimed (so at most two feeds hold memory: the one the writer reads and
    /// the next), and, while several downloads run at once, only if the writer is waiting for
    /// this very layer (one ahead of the writer goes to the store alone).
    func downloadStarting(_ digest: Digest, size: Int64, fromFirstByte: Bool) -> LayerFeed? {
        condition.lock()
        defer { condition.unlock() }
        guard downloads[digest] == nil else { return nil }
        let unclaimed = downloads.values.contains { entry in entry.flatMap { $0 } != nil }
        let wanted = streamsToWriter && fromFirstByte && !writerGone && !closed && !unclaimed
            && (downloadsRunning <= 1 || writerWaitsFor == digest)
        let feed = wanted
            ? LayerFeed(expectedSize: size, othersRunning: { [self] in overlapping }, heldBack: { [self] in noteHeldBack() }) : nil
        downloads[digest] = .some(feed)
        if let feed { feeds.append(feed) }
        condition.broadcast()
        return feed
    }

    /// The fetcher: how many downloads run now (counting one about to start).
    func downloadsRunning(_ count: Int) {
        condition.lock()
        downloadsRunning = count
        condition.unlock()
    }

    /// Whether a download had to wait for the writer since the last call: the writer, not the
    /// route, set the pace, and more downloads side by side would not help.
    func writerSetPace() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let answer = writerSetThePace
        writerSetThePace = false
        return answer
    }

    private func noteHeldBack() {
        condition.lock()
        writerSetThePace = true
        condition.unlock()
    }

    /// Whether several downloads run at once.
    private var overlapping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return downloadsRunning > 1
    }

    /// The writer, reaching a layer: the layer's feed if its download streams to the writer.
    /// Blocks until that download has started, the store holds the layer, or the gate is closed.
    func liveLayer(_ digest: Digest, size: Int64) -> (any LiveLayer)? {
        condition.lock()
        defer {
            writerWaitsFor = nil
            condition.unlock()
        }
        writerWaitsFor = digest
        while !closed, !writerGone, downloads[digest] == nil, !store.contains(digest, size: size), !willNeverArrive(digest) {
            condition.wait()
        }
        guard !aborted, !writerGone, case .some(.some(let feed)) = downloads[digest] else { return nil }
        downloads[digest] = .some(nil)
        return feed
    }

    /// Whether the writer is waiting at the gate for this layer's download to start.
    func isWriterWaiting(for digest: Digest) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return writerWaitsFor == digest
    }

    /// The writer finished or failed: nothing takes from feeds any more, so none may hold a
    /// download back, and later downloads get none.
    func writerFinished() {
        condition.lock()
        writerGone = true
        let all = feeds
        condition.broadcast()
        condition.unlock()
        for feed in all { feed.abandon() }
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

}
