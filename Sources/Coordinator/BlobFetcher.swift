import Artifacts
import Foundation
import OCI
import Registry

/// Brings blobs into the content store, verified against their agreed digests and sizes:
/// downloads in the order given, more than one at a time only on slow routes (`DownloadRamp`,
/// at most `concurrency`), resume of partial downloads, and another agreeing vantage as fallback
/// when one fails or sends wrong bytes. With several sources, the blobs are spread over them by
/// what each is measured to deliver (`RoutePlanner`, BlobFetcher+Routes.swift), a large one's tail
/// over a second route (BlobFetcher+Split.swift). With a `gate` that streams to a writer, a download from a
/// layer's first byte is also handed to the archive writer as it arrives (`LayerFeed`).
struct BlobFetcher: Sendable {
    /// An agreeing vantage a blob may come from: its name and its registry client.
    typealias Source = (name: String, client: RegistryClient)

    let store: ContentStore
    /// Agreeing vantages (name and client), preferred first.
    let sources: [Source]
    let reference: ImageReference
    let concurrency: Int
    let events: PullEventSink?
    var gate: LayerGate?
    /// Vantages that agree after the fetch began (`EarlyLayers`): each joins the routes the blobs
    /// are spread over (with two sources or more).
    var joins: RouteJoins?
    /// How long another run may hold a blob's lock without its download growing before this run
    /// downloads the blob itself: `THREETOFU_LOW_SPEED_TIME`, else 30 s.
    var holderStallLimit: Duration = TransportTuning.stallLimit(ProcessInfo.processInfo.environment)

    /// What the fetch had to do: how many blobs came from the network, the cache, or a resumed partial.
    struct Statistics: Sendable, Equatable {
        var downloaded = 0
        var cached = 0
        var resumed = 0
        var bytesReceived: Int64 = 0
        /// Bytes of the downloaded blobs each source (vantage name) brought.
        var bytesByRoute: [String: Int64] = [:]
    }

    /// What one child of the fetch brings back: a finished download (or a blob another run
    /// committed while this one waited for it), or the time to look at the ramp.
    enum Step: Sendable {
        case finished(digest: Digest, resumedFrom: Int64?, size: Int64, route: String)
        case committedElsewhere(digest: Digest)
        case look
    }

    /// Hashes every blob of `descriptors` the store already holds and removes those that no
    /// longer match their digest (a cache may be shared, stale or tampered with), so the fetch
    /// downloads them again. Call it before an output starts reading the store.
    static func dropDamaged(_ descriptors: [Descriptor], in store: ContentStore) async throws {
        var seen: Set<Digest> = []
        let cached = descriptors.filter { seen.insert($0.digest).inserted && store.contains($0.digest, size: $0.size) }
        guard !cached.isEmpty else { return }
        try await BlockingIO.run {
            for blob in cached { _ = try store.verifiedContains(blob.digest, size: blob.size) }
        }
    }

    func fetch(_ descriptors: [Descriptor]) async throws -> Statistics {
        var seen: Set<Digest> = []
        let unique = descriptors.filter { seen.insert($0.digest).inserted }
        let missing = unique.filter { !store.contains($0.digest, size: $0.size) }
        // The writer waits only for layers that are in the store or will be fetched: one that
        // leaves the cache during the run fails the write instead of waiting for ever.
        gate?.fetchPlanned(Set(missing.map(\.digest)))
        events?(.blobsPlanned(count: unique.count, bytes: unique.reduce(Int64(0)) { total, blob in total.addingReportingOverflow(max(0, blob.size)).overflow ? .max : total + max(0, blob.size) }, cached: unique.count - missing.count))
        var statistics = Statistics(cached: unique.count - missing.count)
        if sources.count > 1, !missing.isEmpty {
            try await fetchOverRoutes(missing, statistics: &statistics)
            return statistics
        }
        try await withThrowingTaskGroup(of: Step.self) { group in
            var waiting = missing[...]
            /// Running downloads: the partial length each started from, and its size.
            var running: [Digest: (start: Int64, size: Int64)] = [:]
            var finishedBytes: Int64 = 0
            var ramp = DownloadRamp(limit: concurrency)
            var lastLook = ContinuousClock.now
            func startNext() {
                guard let descriptor = waiting.popFirst() else { return }
                running[descriptor.digest] = (store.partialLength(for: descriptor.digest), descriptor.size)
                gate?.downloadsRunning(running.count)
                group.addTask { try await fetchOne(descriptor, from: sources) }
            }
            func scheduleLook() {
                guard !waiting.isEmpty, ramp.limit > 1 else { return }
                group.addTask {
                    // Cancelled when the last download is done: the fetch does not wait out the sleep.
                    try? await Task.sleep(for: .seconds(DownloadRamp.interval))
                    return .look
                }
            }
            startNext()
            scheduleLook()
            while let step = try await group.next() {
                switch step {
                case .committedElsewhere(let digest):
                    running[digest] = nil
                    gate?.downloadsRunning(running.count)
                    statistics.cached += 1
                    startNext()
                    if running.isEmpty, waiting.isEmpty { group.cancelAll() }
                case .finished(let digest, let resumedFrom, let size, let route):
                    running[digest] = nil
                    gate?.downloadsRunning(running.count)
                    statistics.downloaded += 1
                    let received = size - (resumedFrom ?? 0)
                    if resumedFrom != nil { statistics.resumed += 1 }
                    statistics.bytesReceived += received
                    statistics.bytesByRoute[route, default: 0] += received
                    finishedBytes += received
                    startNext()
                    if running.isEmpty, waiting.isEmpty { group.cancelAll() }
                case .look:
                    let progress = finishedBytes + running.reduce(Int64(0)) { total, download in
                        // Committed but not yet counted as finished: its partial file is gone.
                        let length = store.contains(download.key, size: download.value.size)
                            ? download.value.size : store.partialLength(for: download.key)
                        return total + max(0, length - download.value.start)
                    }
                    let now = ContinuousClock.now
                    let elapsed = now - lastLook
                    lastLook = now
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    if ramp.shouldAddDownload(running: running.count, waiting: waiting.count, progress: progress, seconds: seconds, writerSetPace: gate?.writerSetPace() ?? false) {
                        startNext()
                    }
                    scheduleLook()
                }
            }
        }
        return statistics
    }

    /// Downloads one blob from `sources`, tried in order. `privateCopy`: a second download of a
    /// blob another route is on (a hedge) into a file of its own, without the blob's lock or a
    /// feed to the writer. `progress` learns the file the bytes go to.
    func fetchOne(
        _ descriptor: Descriptor, from sources: [(name: String, client: RegistryClient)], privateCopy: Bool = false, progress: RouteDownloadProgress? = nil
    ) async throws -> Step {
        guard descriptor.size >= 0 else {
            throw CoordinatorError(.badInput, "blob \(descriptor.digest) has a negative size in the manifest")
        }
        // One download of a blob at a time, across every run that shares the cache: the holder of
        // the lock alone writes the partial file and commits it; a run that waited finds the blob
        // committed (hashed again before it is relied on) or resumes what the holder left. A holder
        // that makes no progress for `holderStallLimit` (stopped, hung) is left alone: this run
        // then downloads into a file of its own, and the commit keeps whichever verified copy lands first.
        let lock = privateCopy ? nil : try await lockOrPassStalledHolder(descriptor)
        defer { lock?.release() }
        let store = self.store
        // Hashed off the cooperative pool, and only when something is there: the usual download
        // finds nothing and costs no thread hop.
        if store.contains(descriptor.digest, size: descriptor.size),
            try await BlockingIO.run({ try store.verifiedContains(descriptor.digest, size: descriptor.size) })
        {
            events?(.blobFinished(digest: descriptor.digest.string, size: descriptor.size))
            return .committedElsewhere(digest: descriptor.digest)
        }
        let partial = try lock == nil ? store.privatePartialPath(for: descriptor.digest) : store.preparePartial(for: descriptor.digest)
        let startedAt = lock == nil ? 0 : store.partialLength(for: descriptor.digest)
        defer { if lock == nil { unlink(partial) } }
        events?(.blobStarted(digest: descriptor.digest.string, size: descriptor.size, partialPath: partial))
        progress?.transferring(path: partial, from: startedAt)
        let feed = privateCopy ? nil : gate?.downloadStarting(descriptor.digest, size: descriptor.size, fromFirstByte: startedAt == 0)
        // Whatever happens below, a feed not verified is abandoned, so the writer never waits on it.
        defer { feed?.abandon() }
        var failures: [String] = []
        for (name, client) in sources {
            try Task.checkCancellation()
            do {
                let download = try await client.downloadBlob(
                    registry: reference.registry, repository: reference.repository, descriptor: descriptor, to: partial, tap: feed)
                guard download.length == descriptor.size else {
                    try? FileManager.default.removeItem(atPath: partial)
                    throw CoordinatorError(.notMet, "blob \(descriptor.digest): expected \(descriptor.size) bytes, received \(download.length)")
                }
                if let sha256 = download.sha256OfWholeFile, descriptor.digest.algorithm == .sha256 {
                    // fsync and rename: blocking, so off the cooperative pool like the rehash below.
                    let length = download.length
                    _ = try await BlockingIO.run { try store.commit(file: partial, as: descriptor.digest, verifiedSHA256: sha256, size: length) }
                    // The bytes the feed handed over are the ones just hashed and committed.
                    feed?.verified()
                } else {
                    // The file's prefix came from an earlier run: hash all of it, off the cooperative pool.
                    // The feed saw only part of the file (or a digest it cannot vouch for): abandoned.
                    feed?.abandon()
                    _ = try await BlockingIO.run { try store.verifyAndCommit(file: partial, as: descriptor.digest, expectedSize: descriptor.size) }
                }
                events?(.blobFinished(digest: descriptor.digest.string, size: descriptor.size))
                return .finished(digest: descriptor.digest, resumedFrom: download.resumed && startedAt > 0 ? startedAt : nil, size: descriptor.size, route: name)
            } catch let error as CancellationError {
                throw error
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        throw CoordinatorError(.notMet, "could not download blob \(descriptor.digest) from any agreeing vantage: \(failures.joined(separator: "; "))")
    }

    /// The blob's lock, once no other run holds it; nil when another run holds it and its partial
    /// file has not grown for `holderStallLimit`. While waiting, the other run's partial file is
    /// shown as this blob's progress.
    private func lockOrPassStalledHolder(_ descriptor: Descriptor) async throws -> BlobLock? {
        if let lock = try store.tryLockBlob(descriptor.digest) { return lock }
        // Whose download it waits for: this run's (another route) or another run's.
        let heldHere = store.blobLockIsHeldHere(descriptor.digest)
        if !heldHere, let lock = try store.tryLockBlob(descriptor.digest) { return lock }
        let partial = store.partialPath(for: descriptor.digest)
        events?(heldHere ? .waitingForThisRun(digest: descriptor.digest.string) : .waitingForAnotherRun(digest: descriptor.digest.string))
        events?(.blobStarted(digest: descriptor.digest.string, size: descriptor.size, partialPath: partial))
        var length = store.partialLength(for: descriptor.digest)
        var lastGrowth = ContinuousClock.now
        while true {
            try await Task.sleep(for: .milliseconds(20))
            if let lock = try store.tryLockBlob(descriptor.digest) { return lock }
            let now = store.partialLength(for: descriptor.digest)
            if now != length {
                length = now
                lastGrowth = .now
            } else if ContinuousClock.now - lastGrowth > holderStallLimit {
                return nil
            }
        }
    }
}
