import Artifacts
import Foundation
import OCI
import Registry

/// The file one download writes, so that the fetch can measure it while it runs (for
/// `RoutePlanner`): set once the download has its file (after the blob's lock, if it waited).
final class RouteDownloadProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var path: String?
    private var start: Int64 = 0
    private var over = false

    func transferring(path: String, from start: Int64) {
        lock.withLock {
            self.path = path
            self.start = start
        }
    }

    /// The file and the length it had when this download began writing it; nil before.
    func file() -> (path: String, start: Int64)? {
        lock.withLock { path.map { ($0, start) } }
    }

    /// The download is over (landed, failed or cancelled): its file grows no more from it.
    func ended() { lock.withLock { over = true } }
    var hasEnded: Bool { lock.withLock { over } }

    /// Bytes this download has written so far; nil while it has no file yet.
    func received() -> Int64? {
        guard let (path, start) = lock.withLock({ self.path.map { ($0, self.start) } }) else { return nil }
        var info = stat()
        guard lstat(path, &info) == 0 else { return 0 }
        return max(0, Int64(info.st_size) - start)
    }
}

/// Agreeing routes that join a fetch over several routes while it runs: the vantages whose answer
/// matched the early downloads' after they began (`EarlyLayers`). One consumer: the fetch.
final class RouteJoins: Sendable {
    private let stream: AsyncStream<BlobFetcher.Source>
    private let continuation: AsyncStream<BlobFetcher.Source>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: BlobFetcher.Source.self)
    }

    func add(_ source: BlobFetcher.Source) { continuation.yield(source) }

    /// No route joins any more.
    func close() { continuation.finish() }

    /// The next route to join; nil once closed or when the waiting task is cancelled.
    func next() async -> BlobFetcher.Source? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}

extension BlobFetcher {
    /// What one child of a fetch over several routes brings back.
    enum RouteStep: Sendable {
        /// `item` is in the store: this route's download committed it (`received` bytes over
        /// the network), or another run's had (`received` 0).
        /// `splitFrom`: a split's tail landed, with the head route's bytes before it.
        case landed(item: Int, route: Int, received: Int64, resumed: Bool, elsewhere: Bool, splitFrom: Int64? = nil)
        /// `brought`: bytes the download left in the blob's partial file (counted for its route if a
        /// download that resumes the file lands the blob).
        case failed(item: Int, route: Int, reason: String, cancelled: Bool, brought: Int64 = 0)
        case look
        /// Another agreeing route joins (`RouteJoins`); nil: no more will.
        case joined(Source?)
    }

    private struct Key: Hashable {
        let item: Int
        let route: Int
    }

    /// `blob_verification = "source"` with several agreeing sources: the blobs (`missing`, in the
    /// writer's order) are spread over them as `RoutePlanner` decides, from what each route is
    /// measured to deliver during this fetch. Each download is `fetchOne` over one route: the
    /// lock, the resume, the live feed to the writer and the hash on the way in are the same as
    /// with one source. A hedge downloads into a private copy; the first copy to land wins.
    /// Routes that agree later (`joins`) are added to the planner as they come.
    func fetchOverRoutes(_ missing: [Descriptor], statistics: inout Statistics) async throws {
        if let negative = missing.first(where: { $0.size < 0 }) {
            throw CoordinatorError(.badInput, "blob \(negative.digest) has a negative size in the manifest")
        }
        var planner = RoutePlanner(sizes: missing.map(\.size), routes: sources.count, perRouteLimit: concurrency)
        /// The routes, by the planner's index: the sources, then those that joined.
        var routes = sources
        let begin = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - begin
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var tasks: [Key: (task: Task<RouteStep, Never>, progress: RouteDownloadProgress)] = [:]
        /// Per blob: bytes downloads that ended short (handed over, failed, dropped) left in its
        /// partial file, by route. Counted once a download that resumed that file lands the blob;
        /// dropped if the blob lands otherwise (a hedge's copy from byte 0, a 200 answer to the range).
        var leftInPartial: [Int: [(route: Int, bytes: Int64)]] = [:]
        /// Splits running: the head's route and where its download began in the blob.
        var splits: [Int: (head: Int, headStart: Int64)] = [:]
        var failures: [String] = []
        var stats = statistics
        try await withThrowingTaskGroup(of: RouteStep.self) { group in
            func carry(_ actions: [RoutePlanner.Action]) {
                for action in actions {
                    switch action {
                    case .start(let item, let route), .hedge(let item, let route):
                        let hedge = action == .hedge(item: item, route: route)
                        let progress = RouteDownloadProgress()
                        let descriptor = missing[item]
                        let source = routes[route]
                        let task = Task { await download(descriptor, item: item, route: route, over: source, hedge: hedge, progress: progress) }
                        tasks[Key(item: item, route: route)] = (task, progress)
                        group.addTask { await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() } }
                    case .cancel(let item, let route):
                        tasks[Key(item: item, route: route)]?.task.cancel()
                    case .split(let item, let route, let from):
                        // The download the tail's start comes from: the one on the blob that is not a split.
                        var head: (route: Int, progress: RouteDownloadProgress)?
                        if let running = planner.running.first(where: { $0.item == item && $0.splitFrom == nil }),
                            let entry = tasks[Key(item: item, route: running.route)]
                        {
                            head = (running.route, entry.progress)
                            splits[item] = (running.route, entry.progress.file()?.start ?? 0)
                        }
                        let progress = RouteDownloadProgress()
                        let descriptor = missing[item]
                        let source = routes[route]
                        let task = Task {
                            await downloadTail(descriptor, item: item, route: route, over: source, from: from, head: head?.progress, progress: progress)
                        }
                        tasks[Key(item: item, route: route)] = (task, progress)
                        group.addTask { await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() } }
                    case .handOver(let item, let route):
                        tasks[Key(item: item, route: route)]?.task.cancel()
                    }
                }
                gate?.downloadsRunning(planner.running.count)
            }
            func look() {
                group.addTask {
                    // Cancelled when the fetch is done: it does not wait out the sleep.
                    try? await Task.sleep(for: .seconds(DownloadRamp.interval))
                    return .look
                }
            }
            func awaitJoin() {
                guard let joins else { return }
                // Cancelled when the fetch is done: the wait ends with nil.
                group.addTask { .joined(await joins.next()) }
            }
            carry(planner.decide())
            look()
            awaitJoin()
            while !planner.isFinished, let step = try await group.next() {
                carry(planner.tick(seconds()))
                switch step {
                case .landed(let item, let route, let received, let resumed, let elsewhere, let splitFrom):
                    tasks[Key(item: item, route: route)] = nil
                    let first = !planner.done.contains(item)
                    // Only the copy that completed the blob counts (a second copy's bytes are not used).
                    if first, !elsewhere, received > 0 { stats.bytesByRoute[routes[route].name, default: 0] += received }
                    // The file it completed held what earlier downloads left: a resumed download's, or a
                    // split's head that resumed one (its bytes before the split are in the tail's file).
                    let completedEarlierBytes = resumed || (splitFrom != nil && (splits[item]?.headStart ?? 0) > 0)
                    if first, completedEarlierBytes, !elsewhere {
                        for earlier in leftInPartial[item] ?? [] {
                            stats.bytesByRoute[routes[earlier.route].name, default: 0] += earlier.bytes
                            stats.bytesReceived += earlier.bytes
                        }
                    }
                    if first { leftInPartial[item] = nil }
                    if first, let splitFrom, let head = splits[item] {
                        // The tail's file begins with the head route's bytes up to the split.
                        let headBytes = max(0, splitFrom - head.headStart)
                        stats.bytesByRoute[routes[head.head].name, default: 0] += headBytes
                        stats.bytesReceived += headBytes
                    }
                    if first {
                        if elsewhere {
                            stats.cached += 1
                        } else {
                            stats.downloaded += 1
                            if resumed { stats.resumed += 1 }
                            stats.bytesReceived += received
                        }
                    }
                    carry(planner.finished(item: item, route: route, received: received))
                case .failed(let item, let route, let reason, let cancelled, let brought):
                    tasks[Key(item: item, route: route)] = nil
                    if brought > 0, !planner.done.contains(item) {
                        // The route that resumes the partial file counts only what it brings.
                        leftInPartial[item, default: []].append((route, brought))
                    }
                    if !cancelled { failures.append(reason) }
                    carry(planner.failed(item: item, route: route, reason: reason, dropRoute: !cancelled))
                case .look:
                    for (key, entry) in tasks {
                        if let bytes = entry.progress.received() {
                            planner.progress(item: key.item, route: key.route, bytes: bytes)
                        }
                    }
                    planner.look(writerSetPace: gate?.writerSetPace() ?? false)
                    if !planner.isFinished { look() }
                case .joined(let source):
                    guard let source else { break }
                    if !routes.contains(where: { $0.name == source.name }) {
                        _ = planner.addRoute()
                        routes.append(source)
                    }
                    awaitJoin()
                }
                if planner.isExhausted {
                    throw CoordinatorError(.notMet, "could not download the agreed blobs from any agreeing vantage: \(failures.joined(separator: "; "))")
                }
                carry(planner.decide())
            }
            group.cancelAll()
        }
        statistics = stats
    }

    private func download(
        _ descriptor: Descriptor, item: Int, route: Int, over source: Source, hedge: Bool, progress: RouteDownloadProgress
    ) async -> RouteStep {
        defer { progress.ended() }
        do {
            switch try await fetchOne(descriptor, from: [source], privateCopy: hedge, progress: progress) {
            case .finished(_, let resumedFrom, let size, _):
                return .landed(item: item, route: route, received: size - (resumedFrom ?? 0), resumed: resumedFrom != nil, elsewhere: false)
            case .committedElsewhere:
                return .landed(item: item, route: route, received: 0, resumed: false, elsewhere: true)
            case .look:
                return .failed(item: item, route: route, reason: "unexpected step", cancelled: false)
            }
        } catch {
            // Read before the next route resumes the file: it waits for the blob's lock and a first byte.
            let brought = hedge ? 0 : progress.received() ?? 0
            return .failed(item: item, route: route, reason: "\(error)", cancelled: Task.isCancelled || error is CancellationError, brought: brought)
        }
    }
}
