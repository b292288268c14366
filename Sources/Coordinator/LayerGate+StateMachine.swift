import OCI

extension LayerGate {
    /// Every decision of a `LayerGate`, with no lock, thread, store or callback: which download
    /// gets a feed, when the writer waits and for what, what it takes, and which feeds to abandon
    /// when it leaves. Whether the store holds a layer is told to it (`stored`), never looked up.
    /// `LayerGate` holds the lock around each call and carries the action out (waits, wakes,
    /// abandons feeds) with the lock released where it calls out; the tests replay events.
    /// Generic over the feed so that the tests need no `LayerFeed`.
    struct StateMachine<Feed> {
        /// What the writer does when it needs a layer it will read from the store.
        enum WaitAction: Equatable {
            /// Not there yet and still to come: wait until woken, then ask again.
            case wait
            /// Read it (it is stored, or will never be: the writer then reports what is missing).
            case proceed
            /// The fetch was aborted and the output will be thrown away: stop.
            case cancel
        }

        /// What the writer does when it reaches a layer.
        enum LiveAction {
            /// The layer's download has not started and the layer is not stored: wait, then ask again.
            case wait
            /// Take the layer from this feed as it arrives.
            case takeLive(Feed)
            /// Take the layer from the store (after waiting for it there).
            case readFromStore
        }

        let streamsToWriter: Bool
        private(set) var closed = false
        private(set) var aborted = false
        private(set) var writerGone = false
        /// Layers whose download has started: with the feed the writer has not claimed yet, or nil.
        private var downloads: [Digest: Feed?] = [:]
        /// Every feed handed out, claimed or not.
        private(set) var feeds: [Feed] = []
        private var downloadsRunning = 0
        /// The layer the writer waits for to start downloading.
        private(set) var writerWaitsFor: Digest?
        /// The layers the fetch will download, once it has looked at the store (nil before).
        private var planned: Set<Digest>?

        init(streamsToWriter: Bool) {
            self.streamsToWriter = streamsToWriter
        }

        // MARK: the fetch's side

        /// The fetch looked at the store and will download `digests`.
        mutating func fetchPlanned(_ digests: Set<Digest>) {
            planned = digests
        }

        /// No more layers will arrive (the fetch finished).
        mutating func close() {
            closed = true
        }

        /// The fetch failed or was cancelled and the output will be discarded.
        mutating func abort() {
            closed = true
            aborted = true
        }

        /// How many downloads run now (counting one about to start).
        mutating func downloadsRunning(_ count: Int) {
            downloadsRunning = count
        }

        /// Whether several downloads run at once.
        var overlapping: Bool { downloadsRunning > 1 }

        /// The download of `digest` starts, from the layer's first byte or not. Returns the feed
        /// (made by `makeFeed`) when the writer is to take this layer live: only the first download
        /// of a layer gets one, only while a writer is there to take it, only while no earlier feed
        /// waits unclaimed (so at most two feeds hold memory: the one the writer reads and the
        /// next), and, while several downloads run at once, only if the writer is waiting for this
        /// very layer (one ahead of the writer goes to the store alone).
        mutating func downloadStarting(_ digest: Digest, fromFirstByte: Bool, makeFeed: () -> Feed) -> Feed? {
            guard downloads[digest] == nil else { return nil }
            let unclaimed = downloads.values.contains { $0 != nil }
            let wanted = streamsToWriter && fromFirstByte && !writerGone && !closed && !unclaimed
                && (downloadsRunning <= 1 || writerWaitsFor == digest)
            let feed = wanted ? makeFeed() : nil
            downloads[digest] = .some(feed)
            if let feed { feeds.append(feed) }
            return feed
        }

        // MARK: the writer's side

        /// The writer needs `digest` from the store; `stored` says whether the store holds it now.
        func writerNeeds(_ digest: Digest, stored: Bool) -> WaitAction {
            if !closed, !stored, !willNeverArrive(digest) { return .wait }
            return aborted ? .cancel : .proceed
        }

        /// The writer reaches `digest`; `stored` says whether the store holds it now. While the
        /// answer is `wait`, the writer counts as waiting for this layer (see `downloadStarting`).
        mutating func writerReaches(_ digest: Digest, stored: Bool) -> LiveAction {
            if !closed, !writerGone, downloads[digest] == nil, !stored, !willNeverArrive(digest) {
                writerWaitsFor = digest
                return .wait
            }
            writerWaitsFor = nil
            guard !aborted, !writerGone, case .some(.some(let feed)) = downloads[digest] else { return .readFromStore }
            downloads[digest] = .some(nil)
            return .takeLive(feed)
        }

        /// The writer finished, failed, or starts the archive again from the store: nothing takes
        /// from feeds any more. Returns every feed, to be abandoned so that none holds a download back.
        mutating func writerLeaves() -> [Feed] {
            writerGone = true
            return feeds
        }

        /// Whether nothing will bring `digest` to the store: the fetch planned without it (it was
        /// in the store then, and has left it since) and no download of it started.
        private func willNeverArrive(_ digest: Digest) -> Bool {
            guard let planned else { return false }
            return !planned.contains(digest) && downloads[digest] == nil
        }
    }
}

extension LayerGate.StateMachine.LiveAction: Equatable where Feed: Equatable {}
