/// Which agreeing route downloads which blob, when several routes may (`blob_verification =
/// "source"`): every byte is checked against its agreed digest, so the route that carries a blob
/// does not matter for trust, only for speed. Pure: the fetcher measures (bytes of each running
/// download, the time) and carries out the actions; this decides.
///
/// - Each route's pace is measured during the run: the bytes it brought over the time it had
///   downloads running (request latency included), and its latency as the quickest first byte
///   (seen at a look, or, for a blob that landed between looks, its whole download's time).
/// - A route with no pace yet takes one blob to measure it: the preferred route (index 0), or any
///   route when nothing runs, the first blob in the writer's order; any other route the smallest
///   blob waiting, only while at least two wait (never the last one), and only from `probeAfter`
///   on (the preferred route's first download starts alone, so it streams to the writer; by then
///   the preferred route has a pace, so a fast one is never probed beside).
/// - Once a route is measured at `fastEnough` or more (64 MiB/s: a fast link, where the disk, the
///   hash and the relays' CPU set the pace, not the network), no other route takes anything: one
///   route then keeps every layer streaming from its download into the archive, as with a single
///   source. (On loopback, spreading over the proxies cost 20 % in `make bench`: their relaying
///   competes for the same two cores.) That route runs downloads side by side as `DownloadRamp`
///   would for a single source (`look`: two looks in a row below the ramp's pace, the writer not
///   setting it, add one, up to `perRouteLimit`), and only then: not also when its download is
///   about to end (the rule for the other routes below; on loopback the quickest first byte is
///   measured at a look's grain, ~50 ms, so that rule overlapped nearly every download, and a
///   download started beside the one streaming to the writer gets no feed: its layer was read
///   back from the store, the writer waiting for its commit). So one route carrying everything
///   is as quick as the single-source fetch.
/// - The routes with a pace share the waiting blobs in proportion to their paces: a plan puts
///   each waiting blob, the largest first, on the route that would finish it first after what it
///   has running and what the plan already gave it (a new request costs one latency); a route
///   takes the first of its blobs in the writer's order. It runs another download beside its own
///   only while those would end before a new request's first byte.
/// - A route whose running download would take more than `handoverSeconds` and more than twice
///   as long there as on another route after that route's planned work (its pace measured over
///   half a second at least) hands it over (`handOver`):
///   the download stops, its partial file stays, and the other route resumes it (the bytes
///   already brought are kept, unlike a hedge).
/// - Once nothing waits, an idle route also downloads a blob a slower route is still on (a
///   hedge), if it would finish it well before (`hedgeFactor`); the first copy to land wins and
///   the other is cancelled.
/// - Before a hedge, an idle route (once nothing waits, no route is the keeper) takes the TAIL of
///   a large blob (`splitBytes` or more) a slower route would still need more than
///   `handoverSeconds` for (`split`): bytes [k, size) with a range request, k chosen so that
///   both routes end together at their paces (the tail route's assumed equal to the head's while
///   it has none), and only when that ends well before the head alone would (`splitGain`). One
///   split per blob; the head download goes on past k (it is neither handed over nor hedged
///   meanwhile): whichever completes the blob first wins, as with a hedge. So an image of one
///   large layer is carried by two routes together.
/// - A route may join while the fetch runs (`addRoute`: a vantage that agreed after the early
///   downloads began, `EarlyLayers`). It answered later than the others, so it is likely the slow
///   one: until measured it probes only with a blob of `joinedProbeBytes` or less, and a split's
///   tail for it is sized as if it had `joinedPaceGuess` of the head's pace (the head goes on past
///   k anyway); measured, it takes blobs by the rules above.
/// - A route that errs, or whose started downloads bring nothing for `stallSeconds`, is dropped
///   and its blobs go back to the front of the queue for the others (the last route standing is
///   never dropped for a stall: the transport's own low-speed limit decides then).
struct RoutePlanner: Sendable, Equatable {
    enum Action: Sendable, Equatable {
        /// Download `item` over `route`.
        case start(item: Int, route: Int)
        /// Download `item` over `route` too, into a copy of its own: another route is slow on it.
        case hedge(item: Int, route: Int)
        /// Stop the download of `item` over `route` (it landed elsewhere, or the route is dropped).
        case cancel(item: Int, route: Int)
        /// Stop the download of `item` over `route`, keeping its partial file: a quicker route
        /// resumes it.
        case handOver(item: Int, route: Int)
        /// Download bytes [`from`, size) of `item` over `route`, into a file of its own; the route
        /// already on `item` brings [0, `from`) (see `BlobFetcher+Split.swift`).
        case split(item: Int, route: Int, from: Int64)
    }

    struct Download: Sendable, Equatable {
        var item: Int
        var route: Int
        var startedAt: Double
        /// Bytes received so far.
        var bytes: Int64 = 0
        /// Whether bytes flow (a download waiting for another run's lock is not stalled).
        var transferring = false
        var lastGrowthAt: Double
        var hedge: Bool
        /// A split's tail: its bytes start here (`bytes` counts from it).
        var splitFrom: Int64? = nil
    }

    struct Route: Sendable, Equatable {
        var alive = true
        var bytes: Int64 = 0
        var activeSeconds = 0.0
        var latency: Double?
        /// Bytes brought by downloads that landed (what the report says the route carried).
        var carried: Int64 = 0
        var failure: String?
        /// Joined after the fetch began (`addRoute`): its vantage answered later than the others,
        /// so it is likely the slow one until measured.
        var joined = false
    }

    let sizes: [Int64]
    let perRouteLimit: Int
    let stallSeconds: Double
    let hedgeFactor: Double
    private(set) var routes: [Route]
    private(set) var waiting: [Int]
    private(set) var running: [Download] = []
    private(set) var done: Set<Int> = []
    private(set) var now = 0.0

    let probeAfter: Double
    let fastEnough: Double
    let handoverSeconds: Double
    /// Per blob: bytes a download that was handed over left in its partial file (the next one resumes them).
    private(set) var partial: [Int: Int64] = [:]
    /// Downloads handed over whose end the fetcher has not reported yet: the route does not take
    /// that blob again before (the fetcher knows a download by its blob and route).
    private var leaving: Set<[Int]> = []
    /// Per route: the downloads it may run side by side while it keeps every blob (raised by `look`).
    private(set) var allowance: [Int]
    private var ramps: [DownloadRamp]
    private var lastLook = 0.0
    /// Blobs split once already (never again).
    private(set) var splitItems: Set<Int> = []
    /// Blobs whose split running now was made without a pace for its tail route.
    private var guessedSplits: Set<Int> = []
    let splitBytes: Int64
    let splitGain: Double
    let rampFast: Double
    /// The largest blob a route that joined late takes to measure its pace.
    let joinedProbeBytes: Int64 = 4 * 1024 * 1024
    /// A split's tail over a route that joined late and has no pace yet is sized as if the route
    /// had this share of the head's pace.
    let joinedPaceGuess = 0.25

    init(
        sizes: [Int64], routes: Int, perRouteLimit: Int = 4, stallSeconds: Double = 3, hedgeFactor: Double = 0.6,
        probeAfter: Double = 0.15, fastEnough: Double = 64 * 1024 * 1024, rampFast: Double = 192 * 1024 * 1024, handoverSeconds: Double = 1,
        splitBytes: Int64 = 16 * 1024 * 1024, splitGain: Double = 0.85
    ) {
        self.splitBytes = splitBytes
        self.rampFast = rampFast
        self.splitGain = splitGain
        self.probeAfter = probeAfter
        self.handoverSeconds = handoverSeconds
        self.fastEnough = fastEnough
        self.allowance = Array(repeating: 1, count: routes)
        self.ramps = Array(repeating: DownloadRamp(limit: max(1, perRouteLimit), fastBytesPerSecond: rampFast), count: routes)
        self.sizes = sizes.map { max(0, $0) }
        self.routes = Array(repeating: Route(), count: routes)
        self.waiting = Array(sizes.indices)
        self.perRouteLimit = max(1, perRouteLimit)
        self.stallSeconds = stallSeconds
        self.hedgeFactor = hedgeFactor
    }

    /// Every blob has landed.
    var isFinished: Bool { done.count == sizes.count }
    /// No route is left to bring what is missing.
    var isExhausted: Bool { !isFinished && !routes.contains(where: \.alive) }

    /// The route's pace in bytes per second, once it has brought something over 0.1 s or more:
    /// its bytes over the time it had downloads running, less one latency (the wait for the first
    /// byte is not the link's pace; `finishTime` counts it once per new request).
    func rate(_ route: Int) -> Double? {
        let r = routes[route]
        guard r.bytes > 0, r.activeSeconds >= 0.1 else { return nil }
        return Double(r.bytes) / max(r.activeSeconds - (r.latency ?? 0), r.activeSeconds / 2)
    }

    // MARK: events

    /// Another agreeing route joins the fetch (its vantage answered after the fetch began), with
    /// no pace yet and the rules of a route that joined late (see the type's comment). Its index.
    mutating func addRoute() -> Int {
        routes.append(Route(joined: true))
        allowance.append(1)
        ramps.append(DownloadRamp(limit: perRouteLimit, fastBytesPerSecond: rampFast))
        return routes.count - 1
    }

    /// Time passes (seconds since the fetch began): routes with downloads running accumulate
    /// active time; a route whose started downloads brought nothing for `stallSeconds` is dropped.
    mutating func tick(_ time: Double) -> [Action] {
        let elapsed = max(0, time - now)
        now = max(now, time)
        for index in routes.indices where running.contains(where: { $0.route == index }) {
            routes[index].activeSeconds += elapsed
        }
        var actions: [Action] = []
        for index in routes.indices where routes[index].alive {
            // A tail that has all its bytes waits for its head: not stalled.
            let mine = running.filter { $0.route == index && $0.transferring && left($0) > 0 }
            guard !mine.isEmpty, mine.allSatisfy({ now - $0.lastGrowthAt >= stallSeconds }) else { continue }
            guard routes.indices.contains(where: { $0 != index && routes[$0].alive }) else { continue }
            actions += drop(index, because: "brought nothing for \(Int(stallSeconds)) s")
        }
        return actions
    }

    /// The fetcher's look (every `DownloadRamp.interval`, after `tick` and the downloads'
    /// `progress`): each route's ramp sees the bytes the route brought since the last look, and
    /// the route that keeps every blob (measured at `fastEnough`) may run one download more
    /// when its ramp says so. `writerSetPace`: a download waited for the archive writer since
    /// the last look.
    mutating func look(writerSetPace: Bool = false) {
        let seconds = now - lastLook
        lastLook = now
        for route in routes.indices {
            let mine = running.filter { $0.route == route }.count
            let add = ramps[route].shouldAddDownload(
                running: mine, waiting: waiting.count, progress: routes[route].bytes, seconds: seconds, writerSetPace: writerSetPace)
            if add, mine > 0, routes[route].alive, keeper == route {
                allowance[route] = min(perRouteLimit, max(allowance[route], mine + 1))
            }
        }
    }

    /// The route measured at `fastEnough` or more, which keeps every blob to itself.
    var keeper: Int? { routes.indices.first { routes[$0].alive && (rate($0) ?? 0) >= fastEnough } }

    /// The download of `item` over `route` has received `bytes` in all (`transferring`: bytes flow).
    mutating func progress(item: Int, route: Int, bytes: Int64, transferring: Bool = true) {
        guard let index = running.firstIndex(where: { $0.item == item && $0.route == route }) else { return }
        let grown = bytes - running[index].bytes
        if grown > 0 {
            routes[route].bytes += grown
            running[index].bytes = bytes
            running[index].lastGrowthAt = now
            if routes[route].latency == nil || now - running[index].startedAt < routes[route].latency! {
                routes[route].latency = now - running[index].startedAt
            }
        }
        if transferring, !running[index].transferring {
            running[index].transferring = true
            running[index].lastGrowthAt = now
        }
    }

    /// `item` landed over `route` (`received` bytes of it came over the network): every other
    /// copy of it is cancelled.
    mutating func finished(item: Int, route: Int, received: Int64) -> [Action] {
        leaving.remove([item, route])
        if let index = running.firstIndex(where: { $0.item == item && $0.route == route }) {
            if let from = running[index].splitFrom, let head = running.first(where: { $0.item == item && $0.splitFrom == nil }) {
                // A split landed: the head route's bytes up to `from` are in it.
                routes[head.route].carried += max(0, from - (partial[item] ?? 0))
            }
            let grown = received - running[index].bytes
            if grown > 0 { routes[route].bytes += grown }
            // Its first byte came no later than now: a small blob lands between two looks, so
            // this is the only measure of latency a route of small blobs gets (without one it
            // would never run a download beside another, one round trip per blob).
            let took = now - running[index].startedAt
            if received > 0, took > 0, took < routes[route].latency ?? .infinity { routes[route].latency = took }
            running.remove(at: index)
        }
        routes[route].carried += max(0, received)
        done.insert(item)
        waiting.removeAll { $0 == item }
        let others = running.filter { $0.item == item }
        running.removeAll { $0.item == item }
        return others.map { .cancel(item: $0.item, route: $0.route) }
    }

    /// The download of `item` over `route` failed (or was cancelled: `dropRoute` false): a failed
    /// route is dropped, and its blobs go back to the queue.
    mutating func failed(item: Int, route: Int, reason: String, dropRoute: Bool = true) -> [Action] {
        if leaving.remove([item, route]) != nil { return [] }
        running.removeAll { $0.item == item && $0.route == route }
        var actions: [Action] = []
        if dropRoute, routes[route].alive {
            actions = drop(route, because: reason)
        }
        requeue(item)
        return actions
    }

    // MARK: decisions

    /// What to start now.
    mutating func decide() -> [Action] {
        var actions = reconsiderGuessedSplits() + handOverSlowDownload()
        var progress = true
        while progress {
            progress = false
            for route in routes.indices where routes[route].alive {
                guard let item = pick(for: route) else { continue }
                waiting.removeAll { $0 == item }
                running.append(Download(item: item, route: route, startedAt: now, lastGrowthAt: now, hedge: false))
                actions.append(.start(item: item, route: route))
                progress = true
            }
        }
        if waiting.isEmpty {
            for route in routes.indices where routes[route].alive && !running.contains(where: { $0.route == route }) {
                if let (item, from) = splitTarget(for: route) {
                    splitItems.insert(item)
                    if rate(route) == nil { guessedSplits.insert(item) }
                    running.append(Download(item: item, route: route, startedAt: now, lastGrowthAt: now, hedge: true, splitFrom: from))
                    actions.append(.split(item: item, route: route, from: from))
                    continue
                }
                guard let item = hedgeTarget(for: route) else { continue }
                running.append(Download(item: item, route: route, startedAt: now, lastGrowthAt: now, hedge: true))
                actions.append(.hedge(item: item, route: route))
            }
        }
        return actions
    }

    /// Seconds `route` would need to bring what it still has running, then `extra` bytes (a new
    /// request: one latency more).
    func finishTime(_ route: Int, adding extra: Int64) -> Double? {
        guard let rate = rate(route) else { return nil }
        let backlog = running.filter { $0.route == route }.reduce(Int64(0)) { $0 + left($1) }
        return Double(backlog + extra) / rate + (extra > 0 ? routes[route].latency ?? 0 : 0)
    }

    private func pick(for route: Int) -> Int? {
        guard !waiting.isEmpty else { return nil }
        let mine = running.filter { $0.route == route }
        guard mine.count < perRouteLimit else { return nil }
        if let fast = keeper {
            // The keeper runs downloads side by side only as its ramp allows, as one source would:
            // one started beside the download streaming to the writer gets no feed to the writer.
            return fast == route && mine.count < allowance[route] ? waiting.first : nil
        }
        guard rate(route) != nil else {
            // No pace yet: one blob to measure it.
            guard mine.isEmpty else { return nil }
            if route == 0 || running.isEmpty { return waiting.first }
            guard waiting.count >= 2, now >= probeAfter, let smallest = waiting.min(by: { sizes[$0] < sizes[$1] }) else { return nil }
            // A route that joined late measures itself on a small blob only (else on a split's tail).
            guard !routes[route].joined || remaining(smallest) <= joinedProbeBytes else { return nil }
            return smallest
        }
        if !mine.isEmpty {
            // Another download beside those running only while they would end before its first byte.
            guard let latency = routes[route].latency, let busy = finishTime(route, adding: 0), busy < latency else { return nil }
        }
        let plan = self.plan().assignment
        return waiting.first { plan[$0] == route && !leaving.contains([$0, route]) }
    }

    /// Bytes of `item` still to bring (less what a download handed over left in its partial file).
    func remaining(_ item: Int) -> Int64 {
        max(0, sizes[item] - (partial[item] ?? 0))
    }

    /// Bytes `download` still has to bring.
    func left(_ download: Download) -> Int64 {
        if let from = download.splitFrom { return max(0, sizes[download.item] - from - download.bytes) }
        return max(0, remaining(download.item) - download.bytes)
    }

    /// Seconds a new request for `bytes` takes over `route` (nil: no pace yet).
    private func cost(_ route: Int, _ bytes: Int64) -> Double? {
        rate(route).map { Double(bytes) / $0 + (routes[route].latency ?? 0) }
    }

    /// The waiting blobs over the routes with a pace, the largest first, each on the route that
    /// would finish it first after what it has running and what the plan gave it already; and when
    /// each route would be done with all that.
    func plan() -> (assignment: [Int: Int], done: [Int: Double]) {
        let measured = routes.indices.filter { routes[$0].alive && rate($0) != nil }
        var done: [Int: Double] = [:]
        for route in measured { done[route] = finishTime(route, adding: 0) ?? 0 }
        var assignment: [Int: Int] = [:]
        for item in waiting.sorted(by: { (remaining($0), $1) > (remaining($1), $0) }) {
            var best: (route: Int, end: Double)?
            for route in measured {
                guard let cost = cost(route, remaining(item)), let start = done[route] else { continue }
                if best == nil || start + cost < best!.end { best = (route, start + cost) }
            }
            guard let best else { break }
            assignment[item] = best.route
            done[best.route] = best.end
        }
        return (assignment, done)
    }

    /// One running download (the one with the most time left) whose route would take more than
    /// `handoverSeconds` and more than twice as long as another route would after its planned
    /// work: it stops, keeping its partial file, and goes back to the queue for that route.
    private mutating func handOverSlowDownload() -> [Action] {
        let done = plan().done
        var slowest: (index: Int, here: Double)?
        for (index, download) in running.enumerated() where !download.hedge && download.transferring {
            // A pace measured over half a second at least: the first bytes of a request say little.
            let route = routes[download.route]
            // A head whose tail another route brings is not handed over: its first bytes complete the tail.
            guard !running.contains(where: { $0.item == download.item && $0.splitFrom != nil }) else { continue }
            guard let rate = rate(download.route), route.activeSeconds - (route.latency ?? 0) >= 0.5 else { continue }
            let left = self.left(download)
            let here = Double(left) / rate
            guard here > handoverSeconds else { continue }
            let quicker = done.contains { route, start in
                route != download.route && start + (cost(route, left) ?? .infinity) < here / 2
            }
            if quicker, here > slowest?.here ?? 0 { slowest = (index, here) }
        }
        guard let (index, _) = slowest else { return [] }
        let download = running.remove(at: index)
        partial[download.item] = (partial[download.item] ?? 0) + download.bytes
        // What it brought stays in use: the next download resumes it.
        routes[download.route].carried += download.bytes
        leaving.insert([download.item, download.route])
        requeue(download.item)
        return [.handOver(item: download.item, route: download.route)]
    }

    /// The blob whose tail `route` (idle) should bring, and where the tail starts: the running
    /// download (not a hedge, not on a route at `fastEnough`) with the most time left among those
    /// worth it (see the type's comment).
    func splitTarget(for route: Int) -> (item: Int, from: Int64)? {
        guard keeper == nil, now >= probeAfter else { return nil }
        var best: (item: Int, from: Int64, alone: Double)?
        for download in running where !download.hedge && download.route != route && download.transferring {
            let item = download.item
            guard !splitItems.contains(item), !leaving.contains([item, route]), running.filter({ $0.item == item }).count == 1 else { continue }
            let size = sizes[item]
            guard size >= splitBytes, let head = rate(download.route), head < fastEnough else { continue }
            let position = (partial[item] ?? 0) + download.bytes
            let alone = Double(size - position) / head
            guard alone > handoverSeconds else { continue }
            let latency = routes[route].latency ?? routes[download.route].latency ?? 0
            let guess = routes[route].joined ? head * joinedPaceGuess : head
            let (from, together) = Self.splitPoint(size: size, position: position, head: head, tail: rate(route) ?? guess, latency: latency)
            // The head must still be short of k when the tail lands, and the tail worth a request.
            guard together < splitGain * alone, from - position >= splitBytes / 16, size - from >= splitBytes / 4 else { continue }
            if best == nil || alone > best!.alone { best = (item, from, alone) }
        }
        return best.map { ($0.item, $0.from) }
    }

    /// Where to split a blob of `size` whose head download is at `position`, so that the head's
    /// bytes up to k at its pace take as long as one latency and the bytes from k at the tail's
    /// pace; and the seconds both then take.
    static func splitPoint(size: Int64, position: Int64, head: Double, tail: Double, latency: Double) -> (from: Int64, together: Double) {
        let k = (latency + Double(size) / tail + Double(position) / head) / (1 / head + 1 / tail)
        let from = min(size, max(position, Int64(k.rounded(.up))))
        return (from, Double(from - position) / head)
    }

    /// A split made before its tail route had a pace (assumed the head's) is looked at again once
    /// that route is measured over half a second: when a split from now would end well before
    /// this one (`splitGain`), it is cancelled (its bytes are lost) and the blob may be split again.
    private mutating func reconsiderGuessedSplits() -> [Action] {
        var actions: [Action] = []
        for download in running where download.splitFrom != nil && guessedSplits.contains(download.item) {
            let route = routes[download.route]
            guard let tail = rate(download.route), route.activeSeconds - (route.latency ?? 0) >= 0.5 else { continue }
            guessedSplits.remove(download.item)
            guard let from = download.splitFrom, let head = running.first(where: { $0.item == download.item && $0.splitFrom == nil }),
                let headRate = rate(head.route)
            else { continue }
            let size = sizes[download.item]
            let position = (partial[download.item] ?? 0) + head.bytes
            let current = max(Double(left(download)) / tail, Double(max(0, from - position)) / headRate)
            let (_, again) = Self.splitPoint(size: size, position: position, head: headRate, tail: tail, latency: route.latency ?? 0)
            guard again < splitGain * current else { continue }
            running.removeAll { $0.item == download.item && $0.route == download.route }
            splitItems.remove(download.item)
            leaving.insert([download.item, download.route])
            actions.append(.cancel(item: download.item, route: download.route))
        }
        return actions
    }

    private func hedgeTarget(for route: Int) -> Int? {
        guard let rate = rate(route) else { return nil }
        let latency = routes[route].latency ?? 0
        var best: (item: Int, remaining: Double)?
        for download in running where !download.hedge && download.route != route {
            guard !running.contains(where: { $0.item == download.item && $0.route == route }),
                running.filter({ $0.item == download.item }).count < 2
            else { continue }
            let left = self.left(download)
            // The slower route's time left for this blob: at its own pace, or, with none yet, never.
            let remaining = self.rate(download.route).map { Double(left) / $0 } ?? .infinity
            let mine = latency + Double(self.remaining(download.item)) / rate
            guard mine < hedgeFactor * remaining else { continue }
            if best == nil || remaining > best!.remaining { best = (download.item, remaining) }
        }
        return best?.item
    }

    private mutating func drop(_ route: Int, because reason: String) -> [Action] {
        routes[route].alive = false
        routes[route].failure = reason
        let lost = running.filter { $0.route == route }
        running.removeAll { $0.route == route }
        for download in lost { requeue(download.item) }
        return lost.map { .cancel(item: $0.item, route: $0.route) }
    }

    private mutating func requeue(_ item: Int) {
        guard !done.contains(item), !waiting.contains(item), !running.contains(where: { $0.item == item }) else { return }
        // Back in the queue in the writer's order: ahead of every blob that comes after it.
        waiting.insert(item, at: waiting.firstIndex { $0 > item } ?? waiting.endIndex)
    }
}
