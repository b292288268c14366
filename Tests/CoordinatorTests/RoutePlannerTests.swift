@testable import Coordinator
import Testing

/// Which route downloads which blob: measured paces, probes, the fastest finish, hedges, and what
/// a route that errs or stalls hands to the others. Tables of events and the actions they bring,
/// and a small simulated network (routes of given bandwidth and latency) driving the planner.
@Suite struct RoutePlannerTests {
    static let mb: Int64 = 1_000_000

    // MARK: tables

    @Test func withNoPaceYetThePreferredRouteTakesTheFirstBlobAndTheOthersProbeWithTheSmallest() {
        var planner = RoutePlanner(sizes: [64 * Self.mb, 44 * Self.mb, 2 * Self.mb, 6 * Self.mb], routes: 3, probeAfter: 0)
        #expect(planner.decide() == [.start(item: 0, route: 0), .start(item: 2, route: 1), .start(item: 3, route: 2)])
        #expect(planner.waiting == [1])
        #expect(planner.decide() == [], "no route takes a second blob before its pace is known")
    }

    @Test func theOtherRoutesProbeOnlyAfterTheFirstDownloadStartedAlone() {
        var planner = RoutePlanner(sizes: [64 * Self.mb, 44 * Self.mb, 2 * Self.mb, 6 * Self.mb], routes: 3, probeAfter: 0.05)
        #expect(planner.decide() == [.start(item: 0, route: 0)])
        _ = planner.tick(0.04)
        #expect(planner.decide() == [])
        _ = planner.tick(0.05)
        #expect(planner.decide() == [.start(item: 2, route: 1), .start(item: 3, route: 2)])
    }

    @Test func aFastRouteKeepsEveryBlobToItself() {
        // Loopback: the preferred route brings 500 MB/s; the disk, not the network, sets the pace.
        var planner = RoutePlanner(sizes: [64 * Self.mb, 44 * Self.mb, 2 * Self.mb, 6 * Self.mb], routes: 3, probeAfter: 0.05)
        #expect(planner.decide() == [.start(item: 0, route: 0)])
        _ = planner.tick(0.01)
        planner.progress(item: 0, route: 0, bytes: 1 * Self.mb)
        _ = planner.tick(0.11)
        planner.progress(item: 0, route: 0, bytes: 51 * Self.mb)
        #expect(planner.decide() == [], "no probes: route 0 is fast enough alone")
        _ = planner.finished(item: 0, route: 0, received: 64 * Self.mb)
        #expect(planner.decide() == [.start(item: 1, route: 0)])
    }

    @Test func theDefaultsProbeFromAHundredAndFiftyMillisecondsAndLeaveARouteAtSixtyFourMebibytesAlone() {
        let mib = 1024 * 1024.0
        // Route 0 brings `pace` from its first byte (0.01 s); the others may probe from 0.15 s,
        // unless route 0 is measured at 64 MiB/s or more.
        for (pace, probes) in [(64 * mib, false), (63 * mib, true), (200 * mib, false), (4e6, true)] {
            var planner = RoutePlanner(sizes: [64 * Self.mb, 44 * Self.mb, 2 * Self.mb, 6 * Self.mb], routes: 3)
            #expect(planner.decide() == [.start(item: 0, route: 0)])
            _ = planner.tick(0.01)
            planner.progress(item: 0, route: 0, bytes: 1)
            _ = planner.tick(0.14)
            planner.progress(item: 0, route: 0, bytes: Int64(pace * 0.13) + 1)
            #expect(planner.decide() == [], "\(pace / mib) MiB/s: no probe before 0.15 s")
            _ = planner.tick(0.15)
            planner.progress(item: 0, route: 0, bytes: Int64(pace * 0.14) + 1)
            let expected: [RoutePlanner.Action] = probes ? [.start(item: 2, route: 1), .start(item: 3, route: 2)] : []
            #expect(planner.decide() == expected, "\(pace / mib) MiB/s at 0.15 s")
        }
    }

    @Test func theRouteThatKeepsEveryBlobRampsUpAsOneSourceWould() {
        // Route 0 at 100 MiB/s (fast enough to keep everything, below the ramp's 192 MiB/s): two
        // slow looks in a row add a download beside, up to the limit; the writer setting the
        // pace adds none.
        let mib = Int64(1024 * 1024)
        var planner = RoutePlanner(sizes: Array(repeating: 100 * Self.mb, count: 6), routes: 2, perRouteLimit: 3)
        #expect(planner.decide() == [.start(item: 0, route: 0)])
        var bytes: Int64 = 0
        func look(_ time: Double, writerSetPace: Bool = false) -> [RoutePlanner.Action] {
            _ = planner.tick(time)
            bytes += 5 * mib
            planner.progress(item: 0, route: 0, bytes: bytes)
            planner.look(writerSetPace: writerSetPace)
            return planner.decide()
        }
        #expect(look(0.05) == [], "the first look sets the mark")
        #expect(look(0.10) == [], "one slow look")
        #expect(look(0.15, writerSetPace: true) == [], "the writer set the pace")
        #expect(look(0.20) == [], "one slow look again")
        #expect(look(0.25) == [.start(item: 1, route: 0)], "two in a row: one more, over route 0 only")
        #expect(look(0.30) == [.start(item: 2, route: 0)])
        #expect(look(0.35) == [], "at the limit")
        #expect(planner.allowance == [3, 1])
    }

    @Test func theRouteThatKeepsEveryBlobStartsNoDownloadBesideItsOwnUnlessItsRampSaysSo() {
        // Loopback: route 0 brings ~400 MB/s, its first byte seen at the first look (50 ms). Its
        // download is 1.3 ms from done, under that latency; the other routes' rule would start
        // the next blob beside it, which would then get no feed to the writer. The keeper waits.
        var planner = RoutePlanner(sizes: [20 * Self.mb, 50 * Self.mb, 50 * Self.mb], routes: 3)
        #expect(planner.decide() == [.start(item: 0, route: 0)])
        _ = planner.tick(0.05)
        planner.progress(item: 0, route: 0, bytes: 10 * Self.mb)
        _ = planner.tick(0.10)
        planner.progress(item: 0, route: 0, bytes: 19_500_000)
        #expect(planner.keeper == 0)
        #expect(planner.decide() == [], "one download at a time until the ramp adds one")
        _ = planner.finished(item: 0, route: 0, received: 20 * Self.mb)
        #expect(planner.decide() == [.start(item: 1, route: 0)])
    }

    @Test func aSlowRouteDoesNotRampItGetsCompany() {
        // Route 0 at 4 MB/s: its looks are slow, but it does not keep every blob; route 1 probes.
        var planner = RoutePlanner(sizes: Array(repeating: 10 * Self.mb, count: 6), routes: 2, perRouteLimit: 3)
        _ = planner.decide()
        var actions: [RoutePlanner.Action] = []
        for step in 1...6 {
            _ = planner.tick(Double(step) * 0.05)
            planner.progress(item: 0, route: 0, bytes: Int64(step) * 200_000)
            planner.look()
            actions += planner.decide()
        }
        #expect(actions == [.start(item: 1, route: 1)], "\(actions)")
        #expect(planner.allowance == [1, 1])
    }

    @Test func aRouteWithoutPaceNeverTakesTheLastBlobWhileAnotherRuns() {
        var planner = RoutePlanner(sizes: [10 * Self.mb, 1 * Self.mb], routes: 2)
        #expect(planner.decide() == [.start(item: 0, route: 0)], "one waits: the second route does not probe with it")
        _ = planner.failed(item: 0, route: 0, reason: "reset")
        #expect(planner.decide() == [.start(item: 0, route: 1)], "nothing runs: the route left takes the first")
    }

    @Test func aMeasuredRouteTakesTheBlobsItWouldFinishAsSoonAsTheBest() {
        var planner = RoutePlanner(sizes: [40 * Self.mb, 2 * Self.mb, 30 * Self.mb, 1 * Self.mb, 8 * Self.mb], routes: 2, probeAfter: 0)
        #expect(planner.decide() == [.start(item: 0, route: 0), .start(item: 3, route: 1)])
        // First bytes after 0.1 s on both (their latency); after 1 s, route 0 has 40 MB, route 1 1 MB.
        _ = planner.tick(0.1)
        planner.progress(item: 0, route: 0, bytes: 4 * Self.mb)
        planner.progress(item: 3, route: 1, bytes: 100_000)
        _ = planner.tick(1)
        planner.progress(item: 0, route: 0, bytes: 40 * Self.mb - 1)
        #expect(planner.finished(item: 3, route: 1, received: 1 * Self.mb) == [])
        // Paces: bytes over the active time less one latency (0.1 s).
        #expect(abs((planner.rate(0) ?? 0) / (40e6 / 0.9) - 1) < 1e-6)
        #expect(abs((planner.rate(1) ?? 0) / (1e6 / 0.9) - 1) < 1e-6)
        // Route 0 ends its blob before a new request's first byte: it takes blob 1 (0.05 s there,
        // 2 s on route 1) and blob 2 (0.8 s), then is busy for longer than its latency. Route 1
        // would need 8 s for blob 4, route 0 1 s even after its own: route 1 takes nothing.
        #expect(planner.decide() == [.start(item: 1, route: 0), .start(item: 2, route: 0)])
        #expect(planner.waiting == [4])
        _ = planner.finished(item: 0, route: 0, received: 40 * Self.mb)
        #expect(planner.routes[0].carried == 40 * Self.mb && planner.routes[1].carried == 1 * Self.mb)
    }

    /// Every route runs the probe the planner gave it (`probes`: the blob of each route) and brings
    /// its `pace` (bytes/s) for `seconds` after a first byte at 0.05 s; returns the planner then.
    static func measured(_ sizes: [Int64], paces: [Double], probes: [Int], seconds: Double = 0.55) -> RoutePlanner {
        var planner = RoutePlanner(sizes: sizes, routes: paces.count, probeAfter: 0)
        let started = planner.decide()
        precondition(started == probes.enumerated().map { .start(item: $1, route: $0) }, "\(started)")
        _ = planner.tick(0.05)
        for (route, item) in probes.enumerated() { planner.progress(item: item, route: route, bytes: 1) }
        _ = planner.tick(0.05 + seconds)
        for (route, item) in probes.enumerated() { planner.progress(item: item, route: route, bytes: Int64(paces[route] * seconds)) }
        return planner
    }

    @Test func aFastLocalRouteAndSlowerProxiesShareTheBlobsInProportionToTheirPaces() {
        // The WAN bench: home 40 MB/s, a VPS tunnel 10 MB/s, Tor 2 MB/s; 8 layers of 200 MB in the
        // writer's order (smallest first). Home's first blob (2 MB) landed; the others probe.
        let sizes = Self.mixed200.reversed().map { $0 }
        var planner = Self.measured(sizes, paces: [40e6, 10e6, 2e6], probes: [0, 1, 2], seconds: 0.05)
        _ = planner.finished(item: 0, route: 0, received: sizes[0])
        let plan = planner.plan()
        var share: [Int64] = [0, 0, 0]
        for (item, route) in plan.assignment { share[route] += sizes[item] }
        // 180 MB wait: the VPS takes about a fifth of them, home the rest; Tor, busy with 12 MB
        // for 6 s, nothing more.
        #expect(share[1] >= 25 * Self.mb && share[1] <= 50 * Self.mb, "\(share)")
        #expect(share[0] >= 130 * Self.mb && share[2] == 0, "\(share)")
        #expect(abs(plan.done[0]! - plan.done[1]!) < 1.5, "home and the VPS end close together: \(plan.done)")
        #expect(plan.done[0]! < 4.5, "\(plan.done)")
        let started = planner.decide()
        #expect(started.contains { if case .start(_, 0) = $0 { true } else { false } }, "\(started)")
    }

    @Test func aSlowLocalRouteHandsItsLargeBlobToAFastProxyAndTakesNoMore() {
        // The local route (3 MB/s) took the first blob, 64 MB; the proxy (40 MB/s) measured itself
        // on a 24 MB probe. The local route would need 21 s more; the proxy 3.4 s after the rest: handed over.
        let sizes: [Int64] = [64 * Self.mb, 24 * Self.mb, 30 * Self.mb, 40 * Self.mb]
        var planner = Self.measured(sizes, paces: [3e6, 40e6], probes: [0, 1])
        _ = planner.finished(item: 1, route: 1, received: 24 * Self.mb)
        let actions = planner.decide()
        #expect(actions.first == .handOver(item: 0, route: 0), "\(actions)")
        #expect(actions.contains(.start(item: 0, route: 1)), "the proxy resumes it: \(actions)")
        #expect(!actions.contains { if case .start(_, 0) = $0 { true } else { false } }, "the local route takes nothing: \(actions)")
        #expect(planner.remaining(0) == 64 * Self.mb - 1_650_000, "the partial file's bytes are kept")
        #expect(planner.routes[0].carried == 1_650_000)
        // The stopped download's end, reported later, neither drops the route nor queues the blob again.
        #expect(planner.failed(item: 0, route: 0, reason: "cancelled", dropRoute: false) == [])
        #expect(planner.routes[0].alive && planner.running.contains { $0.item == 0 && $0.route == 1 })
        #expect(!planner.waiting.contains(0))
    }

    @Test func noHandoverWhenTheOtherRouteIsNotTwiceAsQuick() {
        // Local 20 MB/s with 53 MB to go (2.6 s); the proxy at 30 MB/s would need 1.8 s: kept.
        let sizes: [Int64] = [64 * Self.mb, 20 * Self.mb, 18 * Self.mb]
        var planner = Self.measured(sizes, paces: [20e6, 30e6], probes: [0, 2])
        _ = planner.finished(item: 2, route: 1, received: 18 * Self.mb)
        let actions = planner.decide()
        #expect(actions == [.start(item: 1, route: 1)], "\(actions)")
    }

    @Test func aRouteThatErrsIsDroppedAndItsBlobGoesBackInTheWritersOrder() {
        var planner = RoutePlanner(sizes: [5 * Self.mb, 4 * Self.mb, 1 * Self.mb, 2 * Self.mb], routes: 2, probeAfter: 0)
        #expect(planner.decide() == [.start(item: 0, route: 0), .start(item: 2, route: 1)])
        #expect(planner.failed(item: 2, route: 1, reason: "digest mismatch") == [])
        #expect(planner.waiting == [1, 2, 3])
        #expect(!planner.routes[1].alive && planner.routes[1].failure == "digest mismatch")
        #expect(planner.decide() == [], "route 0 runs its probe; route 1 is gone")
        #expect(!planner.isExhausted)
        _ = planner.failed(item: 0, route: 0, reason: "reset")
        #expect(planner.isExhausted)
    }

    @Test func aCancelledCopyDoesNotDropItsRoute() {
        var planner = RoutePlanner(sizes: [5 * Self.mb, 4 * Self.mb, 1 * Self.mb], routes: 2, probeAfter: 0)
        _ = planner.decide()
        _ = planner.failed(item: 2, route: 1, reason: "cancelled", dropRoute: false)
        #expect(planner.routes[1].alive)
        #expect(planner.waiting == [1, 2])
    }

    @Test func aStalledRouteIsDroppedButNotTheLastOne() {
        var planner = RoutePlanner(sizes: [5 * Self.mb, 4 * Self.mb, 1 * Self.mb], routes: 2, stallSeconds: 3, probeAfter: 0)
        _ = planner.decide()
        planner.progress(item: 2, route: 1, bytes: 1000)
        planner.progress(item: 0, route: 0, bytes: 0, transferring: false)  // waiting for another run's lock
        #expect(planner.tick(2.9) == [])
        #expect(planner.tick(3.0) == [.cancel(item: 2, route: 1)], "route 1 brought nothing for 3 s")
        #expect(!planner.routes[1].alive)
        #expect(planner.tick(30) == [], "route 0 never started transferring: it waits, it is not stalled")
        planner.progress(item: 0, route: 0, bytes: 10, transferring: true)
        #expect(planner.tick(60) == [], "the last route is left to the transport's own limit")
    }

    @Test func onceNothingWaitsAnIdleFastRouteTakesOverTheSlowRoutesBlob() {
        var planner = RoutePlanner(sizes: [10 * Self.mb, 6 * Self.mb, 1 * Self.mb], routes: 2, probeAfter: 0)
        #expect(planner.decide() == [.start(item: 0, route: 0), .start(item: 2, route: 1)])
        _ = planner.tick(0.5)
        planner.progress(item: 0, route: 0, bytes: 10 * Self.mb)
        planner.progress(item: 2, route: 1, bytes: 100_000)
        _ = planner.finished(item: 0, route: 0, received: 10 * Self.mb)
        // route 0: 20 MB/s; route 1: 0.2 MB/s, 0.9 MB of blob 2 left (4.5 s): blob 1 goes to route 0.
        #expect(planner.decide() == [.start(item: 1, route: 0)])
        _ = planner.tick(1.2)
        planner.progress(item: 1, route: 0, bytes: 6 * Self.mb)
        _ = planner.finished(item: 1, route: 0, received: 6 * Self.mb)
        // 0.9 MB at 23 MB/s beats 6 s left on route 1 (0.14 MB/s over 0.7 s): route 0 resumes
        // what route 1 brought.
        #expect(planner.decide() == [.handOver(item: 2, route: 1), .start(item: 2, route: 0)])
        #expect(planner.remaining(2) == 900_000)
        #expect(planner.finished(item: 2, route: 0, received: 900_000) == [])
        #expect(planner.isFinished)
        #expect(planner.routes.map(\.carried) == [16_900_000, 100_000])
    }

    @Test func onceNothingWaitsAnIdleFastRouteHedgesABlobOnARouteThatBroughtNothingYet() {
        var planner = RoutePlanner(sizes: [10 * Self.mb, 1 * Self.mb, 1 * Self.mb], routes: 2, probeAfter: 0)
        #expect(planner.decide() == [.start(item: 0, route: 0), .start(item: 1, route: 1)])
        _ = planner.tick(0.5)
        planner.progress(item: 0, route: 0, bytes: 10 * Self.mb)
        _ = planner.finished(item: 0, route: 0, received: 10 * Self.mb)
        #expect(planner.decide() == [.start(item: 2, route: 0)])
        _ = planner.tick(0.55)
        _ = planner.finished(item: 2, route: 0, received: 1 * Self.mb)
        // Route 1 has no first byte after 0.55 s (a Tor circuit): no pace, nothing to resume.
        #expect(planner.decide() == [.hedge(item: 1, route: 0)])
        #expect(planner.decide() == [], "one hedge per blob")
        #expect(planner.finished(item: 1, route: 0, received: 1 * Self.mb) == [.cancel(item: 1, route: 1)])
        #expect(planner.isFinished)
    }

    @Test func noHedgeWhenTheSlowRouteIsAboutToFinish() {
        var planner = RoutePlanner(sizes: [10 * Self.mb, 1 * Self.mb, 2 * Self.mb], routes: 2, probeAfter: 0)
        _ = planner.decide()  // 0 on route 0, 1 on route 1
        _ = planner.tick(1)
        planner.progress(item: 0, route: 0, bytes: 10 * Self.mb)
        planner.progress(item: 1, route: 1, bytes: 990_000)
        _ = planner.finished(item: 0, route: 0, received: 10 * Self.mb)
        _ = planner.decide()  // 2 on route 0
        planner.progress(item: 2, route: 0, bytes: 2 * Self.mb)
        _ = planner.finished(item: 2, route: 0, received: 2 * Self.mb)
        #expect(planner.decide() == [], "10 kB left at ~1 MB/s: a second copy would not be quicker")
    }

    // MARK: a simulated network

    struct SimulatedRoute {
        var bytesPerSecond: Double
        var latency: Double
        /// Seconds after which the route breaks (every download on it fails).
        var failsAt: Double = .infinity
    }

    /// Runs the planner over routes of given pace (shared by the route's downloads) and latency.
    /// Returns the time the last blob landed and the bytes each route carried.
    static func simulate(_ sizes: [Int64], _ routes: [SimulatedRoute], limit: Double = 120) -> (seconds: Double, carried: [Int64], planner: RoutePlanner) {
        var planner = RoutePlanner(sizes: sizes, routes: routes.count)
        // (probes after 0.05 s, as in a run)
        struct Running { var item: Int; var route: Int; var started: Double; var bytes: Double; var need: Double; var splitFrom: Double? = nil }
        var running: [Running] = []
        /// Bytes a download handed over left in the blob's partial file (a hedge starts from nothing).
        var partial: [Int: Double] = [:]
        var now = 0.0
        let step = 0.01
        func carry(_ actions: [RoutePlanner.Action]) {
            for action in actions {
                switch action {
                case .start(let item, let route):
                    running.append(Running(item: item, route: route, started: now, bytes: 0, need: Double(sizes[item]) - partial[item, default: 0]))
                case .hedge(let item, let route):
                    running.append(Running(item: item, route: route, started: now, bytes: 0, need: Double(sizes[item])))
                case .split(let item, let route, let from):
                    running.append(Running(item: item, route: route, started: now, bytes: 0, need: Double(sizes[item] - from), splitFrom: Double(from)))
                case .cancel(let item, let route):
                    let split = running.contains { $0.item == item && $0.route == route && $0.splitFrom != nil } && !planner.done.contains(item)
                    running.removeAll { $0.item == item && $0.route == route }
                    // The fetcher reports a cancelled tail's end.
                    if split { carry(planner.failed(item: item, route: route, reason: "cancelled", dropRoute: false)) }
                case .handOver(let item, let route):
                    let left = running.filter { $0.item == item && $0.route == route }
                    partial[item, default: 0] += left.map { $0.bytes.rounded(.down) }.reduce(0, +)
                    running.removeAll { $0.item == item && $0.route == route }
                    // The fetcher reports the stopped download's end.
                    carry(planner.failed(item: item, route: route, reason: "handed over", dropRoute: false))
                }
            }
        }
        carry(planner.decide())
        while !planner.isFinished, now < limit, !planner.isExhausted {
            now += step
            carry(planner.tick(now))
            for (index, route) in routes.enumerated() where now >= route.failsAt {
                for download in running where download.route == index {
                    carry(planner.failed(item: download.item, route: index, reason: "reset"))
                    running.removeAll { $0.item == download.item && $0.route == index }
                }
            }
            for index in running.indices {
                let route = routes[running[index].route]
                let flowing = running.filter { $0.route == running[index].route && now - $0.started >= route.latency && $0.bytes < $0.need }.count
                if now - running[index].started >= route.latency, flowing > 0, running[index].bytes < running[index].need {
                    running[index].bytes = min(running[index].need, running[index].bytes + route.bytesPerSecond * step / Double(flowing))
                }
            }
            var landed: [Running] = []
            var tailsFailed: [Running] = []
            for download in running {
                planner.progress(item: download.item, route: download.route, bytes: Int64(min(download.need, download.bytes.rounded(.down))))
                guard download.bytes >= download.need else { continue }
                guard let from = download.splitFrom else {
                    landed.append(download)
                    continue
                }
                // A tail lands once the head's file holds its start; fails once the head is gone.
                if let head = running.first(where: { $0.item == download.item && $0.splitFrom == nil }) {
                    if partial[download.item, default: 0] + head.bytes >= from { landed.append(download) }
                } else {
                    tailsFailed.append(download)
                }
            }
            for tail in tailsFailed {
                running.removeAll { $0.item == tail.item && $0.route == tail.route }
                carry(planner.failed(item: tail.item, route: tail.route, reason: "the head stopped", dropRoute: false))
            }
            for download in landed where running.contains(where: { $0.item == download.item && $0.route == download.route }) {
                running.removeAll { $0.item == download.item && $0.route == download.route }
                carry(planner.finished(item: download.item, route: download.route, received: Int64(download.need)))
            }
            carry(planner.decide())
        }
        return (now, planner.routes.map(\.carried), planner)
    }

    static let mixed200: [Int64] = [0.32, 0.22, 0.15, 0.12, 0.09, 0.06, 0.03, 0.01].map { Int64($0 * 200e6) }
    static let home = SimulatedRoute(bytesPerSecond: 40e6, latency: 0.04)
    static let vps = SimulatedRoute(bytesPerSecond: 10e6, latency: 0.2)
    static let tor = SimulatedRoute(bytesPerSecond: 2e6, latency: 0.8)

    @Test(arguments: [false, true]) func twoHundredMegabytesOverThreeRoutesBeatTheBestRouteAlone(smallestFirst: Bool) {
        // (The archive writer takes the layers smallest first; the table's order is the largest first.)
        let sizes = smallestFirst ? Self.mixed200.reversed() : Self.mixed200
        let alone = Self.simulate(sizes, [Self.home]).seconds
        let together = Self.simulate(sizes, [Self.home, Self.vps, Self.tor])
        // The limit: 200 MB / 52 MB/s = 3.85 s; the best route alone 5 s. Whole layers over routes
        // (no byte ranges yet), shared in proportion to the paces: about 4.2 s.
        #expect(alone > 4.9)
        #expect(together.seconds < 0.87 * alone, "\(together.seconds) s over three routes, \(alone) s over the best")
        #expect(together.carried[1] > 25 * Self.mb, "the second route carried \(together.carried[1])")
        #expect(together.carried.reduce(0, +) == Self.mixed200.reduce(0, +), "\(together.carried)")
    }

    @Test(arguments: [false, true]) func aSlowLocalRouteGivesItsWorkToAFastProxy(smallestFirst: Bool) {
        let sizes = smallestFirst ? Self.mixed200.reversed() : Self.mixed200
        let slow = SimulatedRoute(bytesPerSecond: 3e6, latency: 0.04)
        let fast = SimulatedRoute(bytesPerSecond: 40e6, latency: 0.06)
        let alone = Self.simulate(sizes, [slow]).seconds
        let together = Self.simulate(sizes, [slow, fast, Self.tor])
        #expect(alone > 60)
        // The proxy alone: 5 s; the local route's first blob is handed over once both are measured.
        #expect(together.seconds < 0.1 * alone, "\(together.seconds) s, the local route alone \(alone) s")
        #expect(together.carried[1] > 170 * Self.mb, "\(together.carried)")
        #expect(together.carried.reduce(0, +) == Self.mixed200.reduce(0, +), "\(together.carried)")
    }

    @Test func aRouteThatBreaksMidwayHandsItsBlobsToTheOthers() {
        var failing = Self.tor
        failing.failsAt = 0.5  // before its first byte: its probe goes to the others
        let result = Self.simulate(Self.mixed200, [Self.home, Self.vps, failing])
        #expect(result.planner.isFinished)
        #expect(!result.planner.routes[2].alive)
        #expect(result.seconds < 6, "\(result.seconds) s")
    }

    @Test func manySmallBlobsUseEveryRouteWithoutWaitingOnTheSlowest() {
        let sizes = [Int64](repeating: 100_000, count: 100)
        let result = Self.simulate(sizes, [Self.home, Self.vps, Self.tor])
        let alone = Self.simulate(sizes, [Self.home]).seconds
        #expect(result.seconds <= alone + 0.1, "\(result.seconds) s over three routes, \(alone) s over the best")
        #expect(result.carried[0] > result.carried[2])
    }

    // MARK: splits (a large blob's tail over a second route)

    @Test func oneLargeBlobOverAFastAndASlowerRouteEndsSoonerSplit() {
        let sizes: [Int64] = [200 * Self.mb]
        let fast = SimulatedRoute(bytesPerSecond: 40e6, latency: 0.04)
        let slower = SimulatedRoute(bytesPerSecond: 10e6, latency: 0.1)
        let alone = Self.simulate(sizes, [fast]).seconds
        let together = Self.simulate(sizes, [fast, slower])
        #expect(alone > 4.9)
        // The limit: 200 MB / 50 MB/s = 4 s.
        #expect(together.seconds < 0.9 * alone, "\(together.seconds) s over two routes, \(alone) s over the fast one")
        #expect(together.carried[1] > 20 * Self.mb, "\(together.carried)")
        #expect(together.carried.reduce(0, +) == 200 * Self.mb, "every byte counted once, for the route that brought it: \(together.carried)")
    }

    @Test func aSlowHeadRouteLeavesMostOfTheBlobToTheTail() {
        // The preferred route brings 3 MB/s, the other (not measured yet) 30 MB/s.
        let sizes: [Int64] = [120 * Self.mb]
        let slow = SimulatedRoute(bytesPerSecond: 3e6, latency: 0.04)
        let quick = SimulatedRoute(bytesPerSecond: 30e6, latency: 0.06)
        let alone = Self.simulate(sizes, [slow]).seconds
        let together = Self.simulate(sizes, [slow, quick])
        #expect(together.seconds < 0.25 * alone, "\(together.seconds) s, \(alone) s over the slow route alone")
        #expect(together.carried.reduce(0, +) == 120 * Self.mb, "\(together.carried)")
    }

    /// Route 0 on blob 0 (`size`) at `headPace` for 0.55 s; route 1 measured at `tailPace` on two
    /// 1 MB blobs, idle now, nothing waiting.
    static func headWithAnIdleRoute(size: Int64, headPace: Double, tailPace: Double) -> RoutePlanner {
        var planner = Self.measured([size, 1 * Self.mb, 1 * Self.mb], paces: [headPace, tailPace], probes: [0, 1])
        _ = planner.finished(item: 1, route: 1, received: 1 * Self.mb)
        precondition(planner.decide() == [.start(item: 2, route: 1)])
        _ = planner.finished(item: 2, route: 1, received: 1 * Self.mb)
        return planner
    }

    @Test func aSplitTakesTheTailFromAPointWhereBothRoutesEndTogether() {
        // Route 0 (40 MB/s) is 22 MB into a 200 MB blob; route 1 (10 MB/s) is idle.
        var planner = Self.headWithAnIdleRoute(size: 200 * Self.mb, headPace: 40e6, tailPace: 10e6)
        let actions = planner.decide()
        guard case .split(0, 1, let from)? = actions.first, actions.count == 1 else {
            Issue.record("expected one split of blob 0 over route 1: \(actions)")
            return
        }
        let position: Int64 = 22 * Self.mb
        #expect(from > position && from < 200 * Self.mb, "k inside (partial, size): \(from)")
        let head = Double(from - position) / planner.rate(0)!
        let tail = planner.routes[1].latency! + Double(200 * Self.mb - from) / planner.rate(1)!
        #expect(abs(head - tail) < 0.01, "both end together: head \(head) s, tail \(tail) s")
        #expect(planner.decide() == [], "one split per blob")
        // The tail lands: the head is cancelled; each route carried its part.
        planner.progress(item: 0, route: 1, bytes: 200 * Self.mb - from)
        #expect(planner.finished(item: 0, route: 1, received: 200 * Self.mb - from) == [.cancel(item: 0, route: 0)])
        #expect(planner.routes[0].carried == from && planner.routes[1].carried == 2 * Self.mb + 200 * Self.mb - from)
        #expect(planner.isFinished)
    }

    @Test func neverASplitBesideTheKeeperNorOfASmallBlobNorWhenTheHeadIsNearlyDone() {
        // The keeper (loopback: 500 MB/s) keeps its blob whole.
        var keeper = RoutePlanner(sizes: [2000 * Self.mb], routes: 2, probeAfter: 0)
        #expect(keeper.decide() == [.start(item: 0, route: 0)])
        _ = keeper.tick(0.05)
        keeper.progress(item: 0, route: 0, bytes: 1)
        _ = keeper.tick(0.6)
        keeper.progress(item: 0, route: 0, bytes: 275 * Self.mb)
        #expect(keeper.keeper == 0)
        #expect(keeper.decide() == [], "no split on the keeper route (3.5 s left there)")
        // A blob under `splitBytes` is not split (a hedge may still take it whole).
        var small = Self.headWithAnIdleRoute(size: 15 * Self.mb, headPace: 4e6, tailPace: 4e6)
        #expect(!small.decide().contains { if case .split = $0 { true } else { false } })
        var large = Self.headWithAnIdleRoute(size: 17 * Self.mb, headPace: 4e6, tailPace: 4e6)
        #expect(large.decide().contains { if case .split = $0 { true } else { false } }, "the same at 17 MB: split")
        // A head with under `handoverSeconds` to go: no split.
        var nearly = Self.headWithAnIdleRoute(size: 30 * Self.mb, headPace: 40e6, tailPace: 10e6)
        #expect(nearly.decide() == [], "8 MB left at 40 MB/s")
    }

    @Test func aTailWhoseHeadStopsShortFailsAndTheBlobGoesBackToTheQueue() {
        var planner = Self.headWithAnIdleRoute(size: 200 * Self.mb, headPace: 40e6, tailPace: 10e6)
        guard case .split(0, 1, _)? = planner.decide().first else {
            Issue.record("no split")
            return
        }
        // The head's route breaks: its download goes; the blob waits for the tail's end.
        #expect(planner.failed(item: 0, route: 0, reason: "reset") == [])
        #expect(!planner.routes[0].alive && planner.waiting.isEmpty)
        // The tail cannot be completed: it fails, and the blob goes to the route left, whole.
        #expect(planner.failed(item: 0, route: 1, reason: "the head stopped", dropRoute: false) == [])
        #expect(planner.waiting == [0])
        #expect(planner.decide() == [.start(item: 0, route: 1)])
    }

    @Test func aFinishedTailWaitingForItsHeadIsNotAStall() {
        var planner = Self.headWithAnIdleRoute(size: 200 * Self.mb, headPace: 20e6, tailPace: 10e6)
        guard case .split(0, 1, let from)? = planner.decide().first else {
            Issue.record("no split")
            return
        }
        planner.progress(item: 0, route: 1, bytes: 200 * Self.mb - from)
        // The head goes on bringing its bytes; the tail, complete, brings nothing more for 5 s.
        for second in 1...5 {
            #expect(planner.tick(0.6 + Double(second)) == [], "the tail has all its bytes; it waits for the head")
            planner.progress(item: 0, route: 0, bytes: Int64(second) * 20 * Self.mb)
        }
        #expect(planner.routes[1].alive)
    }
    @Test func smallBlobsThatLandBetweenLooksGiveTheirRouteALatencyAndItOverlapsTheNext() {
        // Blobs of 100 KB over a 20 ms route: each lands 28 ms after its request, before any look
        // sees a byte of it. (The second route never probes here: `probeAfter` is far off.)
        var planner = RoutePlanner(sizes: Array(repeating: 100_000, count: 12), routes: 2, probeAfter: 60)
        var time = 0.0
        var item = 0
        for _ in 0..<4 {
            #expect(planner.decide() == [.start(item: item, route: 0)], "one at a time while the route has no pace")
            time += 0.028
            _ = planner.tick(time)
            _ = planner.finished(item: item, route: 0, received: 100_000)
            item += 1
        }
        #expect(abs((planner.routes[0].latency ?? 1) - 0.028) < 1e-9, "the quickest landing is the latency's measure")
        // 0.112 s of downloads: a pace, and a running blob's rest (100 KB) ends before a new
        // request's first byte would come: the next one starts beside it.
        #expect(planner.decide() == [.start(item: 4, route: 0), .start(item: 5, route: 0)])
    }

    // MARK: a route that joins while the fetch runs

    @Test func aRouteThatJoinsLateMeasuresItselfOnASmallBlobOnly() {
        // Two routes measured, four blobs waiting: 30, 20, 6 and 3 MB.
        var planner = Self.measured([40 * Self.mb, 2 * Self.mb, 30 * Self.mb, 20 * Self.mb, 6 * Self.mb, 3 * Self.mb], paces: [40e6, 10e6], probes: [0, 1])
        _ = planner.finished(item: 1, route: 1, received: 2 * Self.mb)
        _ = planner.decide()
        let joined = planner.addRoute()
        #expect(joined == 2 && planner.routes[2].joined && !planner.routes[0].joined)
        let waiting = planner.waiting
        #expect(waiting.contains(5), "the 3 MB blob waits: \(waiting)")
        #expect(planner.decide() == [.start(item: 5, route: 2)], "the smallest waiting, 3 MB: its probe")
        // The same with only blobs over 4 MiB waiting: the late route takes none.
        var large = Self.measured([40 * Self.mb, 2 * Self.mb, 30 * Self.mb, 20 * Self.mb, 6 * Self.mb], paces: [40e6, 10e6], probes: [0, 1])
        _ = large.finished(item: 1, route: 1, received: 2 * Self.mb)
        _ = large.decide()
        _ = large.addRoute()
        #expect(large.waiting.count >= 2)
        #expect(large.decide() == [], "no probe with a blob over 4 MiB: \(large.waiting)")
    }

    @Test func aLateRouteWithoutPaceTakesASmallTailAsIfAQuarterOfTheHeadsPace() {
        var planner = Self.headWithAnIdleRoute(size: 200 * Self.mb, headPace: 40e6, tailPace: 10e6)
        // Route 1 gone: only a late route is left beside the head.
        _ = planner.failed(item: 0, route: 1, reason: "reset")
        let late = planner.addRoute()
        guard case .split(0, late, let from)? = planner.decide().first else {
            Issue.record("expected a split of blob 0 over the late route")
            return
        }
        // Both end together if the late route brings 10 MB/s (a quarter of 40): the tail is about
        // a fifth of what is left, not half as for a route assumed as quick as the head.
        let position: Int64 = 22 * Self.mb
        let tail = Double(200 * Self.mb - from) / Double(200 * Self.mb - position)
        #expect(tail > 0.15 && tail < 0.25, "tail share \(tail)")
    }
}
