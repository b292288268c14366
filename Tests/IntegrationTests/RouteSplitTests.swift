import Foundation
import Testing
import TestSupport

/// An image of one large layer over two agreeing routes (`blob_verification = "source"`): the
/// second route brings the layer's tail with a range request while the first brings its start
/// (a split), and the whole file is hashed against the digest before it is used. The routes are
/// real proxies (tinyproxy, microsocks) behind bench/shaper.py relays that cap their bandwidth;
/// the registry is real, behind a python reverse proxy (`FaultProxy`) that logs each request's
/// Range and, on demand, ignores ranges or corrupts a ranged answer.
@Suite struct RouteSplitTests {
    struct Setup {
        let lab: Lab
        let proxy: FaultProxy
        let routes: [ShapedRoute]
        let layout: TestImageLayout
        let vantages: String
        /// The large layer (the one split) and its size.
        let layer: String
        let size: Int
        /// Every layer, in the image's order.
        let layers: [TestImageLayout.Layer]

        func stop() {
            for route in routes { route.stop() }
            proxy.stop()
        }
    }

    /// One 24 MB layer (or `layers`, the largest split); "first" (preferred) at 6 MB/s, "second"
    /// at 4 MB/s: 4 s over the first alone. A third vantage ("far", 2 MB/s, 300 ms round trip)
    /// makes the three the default policy needs. `secondRTT`: the second route's round trip (a
    /// longer one makes it answer after "first", so "first" is the fetch's preferred route).
    /// `farRTT`: the third's (a vantage that answers after the downloads began joins their routes,
    /// `EarlyLayers`; a long one keeps it out of a split made before it answers).
    static func setUp(
        _ name: String, seed: Int, layers sizes: [Int] = [24_000_000], secondRTT: Double = 20, farRTT: Double = 300
    ) async throws -> Setup {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        let scratch = try TemporaryDirectory(prefix: "split")
        let first = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 6, rttMilliseconds: 20, in: scratch)
        let second = try await ShapedRoute(upstreamPort: lab.socksProxy.port, megabytesPerSecond: 4, rttMilliseconds: secondRTT, in: scratch)
        let far = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 2, rttMilliseconds: farRTT, in: scratch)
        let layout = try lab.makeImage(layers: sizes, seed: seed, content: .incompressible, gzipLevel: 1)
        _ = try lab.push(layout, "wan/\(name)", tag: "1")
        let vantages = try lab.vantagesFile(
            extra: RouteSpreadTests.vantages([("first", first.url(scheme: "http")), ("second", second.url(scheme: "socks5h")), ("far", far.url(scheme: "http"))]), includeStandard: false)
        let layers = try #require(layout.images.first?.layers)
        let layer = try #require(layers.max { $0.size < $1.size })
        return Setup(lab: lab, proxy: proxy, routes: [first, second, far], layout: layout, vantages: vantages, layer: layer.digest, size: layer.size, layers: layers)
    }

    static func pull(_ setup: Setup, _ name: String, timeout: Duration = .seconds(600)) throws -> (run: ThreeTofuCLI.Result, archive: String) {
        let archive = setup.lab.home.file("\(name).tar")
        let run = try setup.lab.run([
            "pull", "\(setup.proxy.host)/wan/\(name):1", "--output", archive, "--vantages", setup.vantages, "--json", "--insecure-registry", setup.proxy.host,
        ], timeout: timeout)
        return (run, archive)
    }

    /// The layer's requests that asked for a range.
    static func rangedRequests(_ setup: Setup) -> [FaultProxy.Request] {
        setup.proxy.requests().filter { $0.path.hasSuffix("/blobs/\(setup.layer)") && $0.range != nil }
    }

    @Test func oneLargeLayerIsCarriedByTwoRoutesTogether() async throws {
        let setup = try await Self.setUp("split", seed: 41)
        defer { setup.stop() }
        let (run, archive) = try Self.pull(setup, "split")
        #expect(run.status == 0, "\(run.stderr)")
        print("RouteSplitTests: \(run.stdout)")
        let (summary, carried) = try RouteSpreadTests.routesCarried(run.stdout)
        #expect(!Self.rangedRequests(setup).isEmpty, "no range request for the layer: \(setup.proxy.requests())")
        #expect((carried["first"] ?? 0) > 0 && carried.values.filter { $0 > 0 }.count >= 2, "two routes carried part of the one layer: \(carried)")
        // Every byte in the layer counted once, for the route that brought it.
        let received = summary["bytesReceived"] as? Int ?? -1
        #expect(carried.values.reduce(0, +) == received && received == setup.size, "\(carried), received \(received) of \(setup.size)")
        #expect(summary["layersDownloaded"] as? Int == 1)
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)
    }

    /// A pull with `fault` on every request for the layer: the split is tried (a ranged request
    /// reached the registry's front), its tail is not used, and the first route's own download
    /// brings every byte: exit 0, the archive's blobs hash to their names.
    static func expectTheTailUnused(_ fault: FaultProxy.Action, name: String, seed: Int) async throws {
        let setup = try await Self.setUp(name, seed: seed)
        defer { setup.stop() }
        try setup.proxy.inject([.init(path: "/blobs/\(setup.layer)", times: nil, fault)])
        let (run, archive) = try Self.pull(setup, name)
        #expect(run.status == 0, "\(run.stderr)")
        let (summary, carried) = try RouteSpreadTests.routesCarried(run.stdout)
        #expect(Self.rangedRequests(setup).contains { $0.fault != "-" }, "the split was not tried: \(setup.proxy.requests())")
        #expect(carried == ["first": setup.size], "nothing from the tail landed: \(carried)")
        #expect(summary["bytesReceived"] as? Int == setup.size)
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)
    }

    /// The registry answers the range request with the whole blob (200): refused at its first
    /// byte, never taken for the tail.
    @Test func aRegistryThatIgnoresRangeLeavesTheLayerToTheRouteOnItsStart() async throws {
        try await Self.expectTheTailUnused(.ignoreRange, name: "norange", seed: 43)
    }

    /// The tail's first byte comes flipped: the split's file does not hash to the digest and is
    /// not committed; the first route's download completes the layer.
    @Test func aTailWithAWrongByteIsNeverCommitted() async throws {
        try await Self.expectTheTailUnused(.flipRangedByte, name: "flipped", seed: 47)
    }

    /// A split whose head download is cut before the split point k, with both routes measured
    /// before the split: two small layers come first in the writer's order (smallest first), the
    /// smallest over "first" (preferred: "second" answers later, its round trip being longer),
    /// the next over "second" to measure its pace; "first" then takes the large layer and
    /// "second", idle and measured, splits it (no split on a guessed pace, which
    /// `RoutePlanner.reconsiderGuessedSplits` may cancel before anything is cut). The registry's
    /// front cuts the head's body at 40 % (c), well before k (~65 %) and well after the split
    /// (~15 %); the split's tail request is the ranged one not from c, a resume's is from c.
    /// `resumeRefused`: the head's resume from c gets a 403, so the head download fails before k.
    static func expectTheHeadCutBeforeTheSplitPoint(name: String, seed: Int, resumeRefused: Bool) async throws {
        // "far" answers at 2.4 s (two of its round trips through the HTTP proxy), after the split.
        let setup = try await Self.setUp(name, seed: seed, layers: [1_500_000, 2_000_000, 24_000_000], secondRTT: 80, farRTT: 1200)
        defer { setup.stop() }
        let cut = 0.4
        // As the proxy computes it: int(total * fraction).
        let c = Int(Double(setup.size) * cut)
        var faults: [FaultProxy.Fault] = [.init(path: "/blobs/\(setup.layer)", range: "^$", times: 1, .cutBody(fraction: cut))]
        if resumeRefused {
            faults.append(.init(path: "/blobs/\(setup.layer)", range: "^bytes=\(c)-$", times: 1, .status(403)))
        }
        try setup.proxy.inject(faults)
        // A blob that never goes back to a route would leave the fetch waiting for ever.
        let (run, archive) = try Self.pull(setup, name, timeout: .seconds(60))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)

        let requests = setup.proxy.requests().filter { $0.path.hasSuffix("/blobs/\(setup.layer)") }
        let log = requests.map { "\($0.fault) \($0.range ?? "-")" }.joined(separator: ", ")
        #expect(requests.first?.range == nil && requests.first?.fault == "cut", "the head's request was cut: \(log)")
        let tails = requests.indices.filter { requests[$0].rangeStart.map { $0 != c } ?? false }
        let resumes = requests.indices.filter { requests[$0].rangeStart == c }
        try #require(tails.count == 1, "one split, its tail asked for once: \(log)")
        let tail = tails[0]
        let k = try #require(requests[tail].rangeStart)
        #expect(c < k, "the head was cut at \(c), before the split point \(k): \(log)")
        // The split was made before the cut: the tail's request came before any resume.
        #expect(!resumes.isEmpty && resumes.allSatisfy { $0 > tail }, "the head resumed from the cut after the split: \(log)")

        let (summary, carried) = try RouteSpreadTests.routesCarried(run.stdout)
        let sizes = setup.layers.map(\.size).sorted()
        print("RouteSplitTests \(name): cut at \(c), layer requests [\(log)], carried \(carried), received \(summary["bytesReceived"] ?? "?")")
        if resumeRefused {
            // The head failed at c: "first" is dropped, the split fails without dropping "second"
            // (its tail's bytes are not used), and the layer goes back to "second", which resumes
            // the head's partial file from c: the c bytes count for "first", the rest for "second".
            #expect(resumes.map { requests[$0].fault } == ["status", "-"], "the refused resume, then the one that brought the rest: \(log)")
            #expect(carried == ["first": sizes[0] + c, "second": sizes[1] + setup.size - c], "\(carried); k \(k), c \(c)")
            #expect(summary["bytesReceived"] as? Int == sizes.reduce(0, +))
        } else {
            // The head resumed from c and reached k: the split landed, "first" counted up to k.
            #expect(resumes.map { requests[$0].fault } == ["-"], "one resume of the head: \(log)")
            #expect(carried == ["first": sizes[0] + k, "second": sizes[1] + setup.size - k], "\(carried); k \(k), c \(c)")
            #expect(summary["bytesReceived"] as? Int == sizes.reduce(0, +))
        }
        #expect(summary["layersDownloaded"] as? Int == 3)
    }

    /// The head is cut before k and resumed (the transport's own retry, from c): the split lands.
    @Test func aHeadCutBeforeTheSplitPointResumesAndTheSplitLands() async throws {
        try await Self.expectTheHeadCutBeforeTheSplitPoint(name: "headcut", seed: 53, resumeRefused: false)
    }

    /// The head download fails before k: nothing joined is committed, the layer still lands.
    @Test func aHeadThatFailsBeforeTheSplitPointLeavesTheLayerToTheOtherRoute() async throws {
        try await Self.expectTheHeadCutBeforeTheSplitPoint(name: "headfails", seed: 59, resumeRefused: true)
    }
}
