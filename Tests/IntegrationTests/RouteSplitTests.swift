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
        let layer: String
        let size: Int

        func stop() {
            for route in routes { route.stop() }
            proxy.stop()
        }
    }

    /// One 24 MB layer; "first" (preferred) at 6 MB/s, "second" at 4 MB/s: 4 s over the first alone.
    /// A third vantage ("far", 2 MB/s, 300 ms round trip) makes the three the default policy needs.
    static func setUp(_ name: String, seed: Int) async throws -> Setup {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        let scratch = try TemporaryDirectory(prefix: "split")
        let first = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 6, rttMilliseconds: 20, in: scratch)
        let second = try await ShapedRoute(upstreamPort: lab.socksProxy.port, megabytesPerSecond: 4, rttMilliseconds: 20, in: scratch)
        let far = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 2, rttMilliseconds: 300, in: scratch)
        let layout = try lab.makeImage(layers: [24_000_000], seed: seed, content: .incompressible, gzipLevel: 1)
        _ = try lab.push(layout, "wan/\(name)", tag: "1")
        let vantages = try lab.vantagesFile(
            extra: RouteSpreadTests.vantages([("first", first.url(scheme: "http")), ("second", second.url(scheme: "socks5h")), ("far", far.url(scheme: "http"))]), includeStandard: false)
        let layer = try #require(layout.images.first?.layers.first)
        return Setup(lab: lab, proxy: proxy, routes: [first, second, far], layout: layout, vantages: vantages, layer: layer.digest, size: Int(layer.size))
    }

    static func pull(_ setup: Setup, _ name: String) throws -> (run: ThreeTofuCLI.Result, archive: String) {
        let archive = setup.lab.home.file("\(name).tar")
        let run = try setup.lab.run([
            "pull", "\(setup.proxy.host)/wan/\(name):1", "--output", archive, "--vantages", setup.vantages, "--json", "--insecure-registry", setup.proxy.host,
        ])
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
}
