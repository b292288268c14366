import Foundation
import Testing
import TestSupport

/// `blob_verification = "source"` over several agreeing routes: the layers come over all of them,
/// as each is measured to deliver, and a route that breaks midway hands its share to the others.
/// The routes are real proxies (tinyproxy, microsocks) behind bench/shaper.py relays that cap
/// their bandwidth; the registry is real.
@Suite struct RouteSpreadTests {
    /// Vantages for the vantages file: a local one (no proxy), or a proxy.
    static func vantages(_ list: [(name: String, proxy: String?)]) -> String {
        list.map { name, proxy in
            "[[vantage]]\nname = \"\(name)\"\n" + (proxy.map { "kind = \"proxy\"\nproxy = \"\($0)\"\n" } ?? "kind = \"local\"\n")
        }.joined(separator: "\n")
    }

    /// The `--json` summary, and the bytes each route carried (its `blobRoutes`).
    static func routesCarried(_ stdout: String) throws -> (summary: [String: Any], carried: [String: Int]) {
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "\(stdout)")
        let routes = try #require(summary["blobRoutes"] as? [[String: Any]], "\(stdout)")
        var carried: [String: Int] = [:]
        for route in routes { carried[route["vantage"] as? String ?? "?"] = route["bytes"] as? Int ?? 0 }
        return (summary, carried)
    }

    @Test func slowRoutesCarryTheLayersTogetherAndOneThatBreaksHandsItsShareOver() async throws {
        let lab = try await Lab()
        let scratch = try TemporaryDirectory(prefix: "routes")
        // Three routes, none fast enough alone to keep every layer to itself; "breaks" resets
        // every connection after 600 kB toward 3tofu (resolution needs a few kB).
        let first = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 4, rttMilliseconds: 20, in: scratch)
        let second = try await ShapedRoute(upstreamPort: lab.socksProxy.port, megabytesPerSecond: 4, rttMilliseconds: 20, in: scratch)
        let breaks = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 2, rttMilliseconds: 20, dieAfterBytes: 600_000, in: scratch)
        defer { first.stop(); second.stop(); breaks.stop() }
        let layout = try lab.makeImage(layers: Array(repeating: 1_000_000, count: 8), seed: 19, content: .incompressible, gzipLevel: 1)
        _ = try lab.push(layout, "wan/spread", tag: "1")
        let vantages = try lab.vantagesFile(
            extra: Self.vantages([("first", first.url(scheme: "http")), ("second", second.url(scheme: "socks5h")), ("breaks", breaks.url(scheme: "http"))]),
            includeStandard: false)
        let archive = lab.home.file("spread.tar")
        let run = try lab.run(["pull", "\(lab.registry.host)/wan/spread:1", "--output", archive, "--vantages", vantages, "--json"] + lab.registryOptions())
        #expect(run.status == 0, "\(run.stderr)")
        print("RouteSpreadTests: \(run.stdout)")
        let (summary, carried) = try Self.routesCarried(run.stdout)
        let layerBytes = layout.images[0].layers.reduce(0) { $0 + Int($1.size) }
        #expect(Set(carried.keys).isSubset(of: ["first", "second", "breaks"]), "\(carried)")
        #expect((carried["first"] ?? 0) > 0 && (carried["second"] ?? 0) > 0, "both working routes carried layers: \(carried)")
        #expect((carried["breaks"] ?? 0) < 600_000, "the broken route landed nothing past its break: \(carried)")
        // What each route carried adds up to what was received, every layer byte once: what the
        // broken route left in a partial file counts for it if another route resumed that file,
        // and not at all if the layer came whole another way (a second copy from byte 0).
        let received = summary["bytesReceived"] as? Int ?? -1
        #expect(carried.values.reduce(0, +) == received, "\(carried), received \(received)")
        #expect(received == layerBytes, "received \(received) of \(layerBytes)")
        #expect(summary["layersDownloaded"] as? Int == 8)
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)
    }

    @Test func aSlowLocalRouteLeavesTheLayersToAFastProxy() async throws {
        let lab = try await Lab()
        let scratch = try TemporaryDirectory(prefix: "slowlocal")
        // This machine's own route to the registry: 3 MB/s (the image reference names the relay).
        // The proxy's outgoing connections leave from 127.0.0.4 and pass it unshaped; the proxy's
        // own route is 20 MB/s.
        let socks = try await MicroSocks(bind: "127.0.0.4")
        let local = try await ShapedRoute(
            upstreamPort: lab.registry.port, megabytesPerSecond: 3, rttMilliseconds: 20, passFrom: ["127.0.0.4"], in: scratch)
        let fast = try await ShapedRoute(upstreamPort: socks.port, megabytesPerSecond: 20, rttMilliseconds: 20, in: scratch)
        // A third vantage a long way off (its answer comes well after the first two: the layers
        // start downloading before the verdict, from the first two).
        let farSocks = try await MicroSocks(bind: "127.0.0.4")
        let far = try await ShapedRoute(upstreamPort: farSocks.port, megabytesPerSecond: 2, rttMilliseconds: 300, in: scratch)
        defer { local.stop(); fast.stop(); socks.stop(); far.stop(); farSocks.stop() }
        let layout = try lab.makeImage(layers: Array(repeating: 8_000_000, count: 4), seed: 23, content: .incompressible, gzipLevel: 1)
        _ = try lab.push(layout, "wan/slowlocal", tag: "1")
        let vantages = try lab.vantagesFile(
            extra: Self.vantages([("local", nil), ("fast", fast.url(scheme: "socks5h")), ("far", far.url(scheme: "socks5h"))]), includeStandard: false)
        let archive = lab.home.file("slowlocal.tar")
        let host = "127.0.0.1:\(local.port)"
        let run = try lab.run(["pull", "\(host)/wan/slowlocal:1", "--output", archive, "--vantages", vantages, "--json", "--insecure-registry", host])
        #expect(run.status == 0, "\(run.stderr)")
        let (summary, carried) = try Self.routesCarried(run.stdout)
        let layerBytes = layout.images[0].layers.reduce(0) { $0 + Int($1.size) }
        // The local route took the first layer (it is preferred, and nothing was measured yet); at
        // 3 MB/s it would need 2.7 s for it, the proxy 0.4 s: once both are measured, the proxy
        // takes every other layer, and this one too (it resumes what the local route brought, or,
        // at the end, downloads a copy of its own).
        #expect((carried["local"] ?? 0) < 8_000_000, "the local route landed no whole layer: \(carried)")
        #expect((carried["fast"] ?? 0) + (carried["far"] ?? 0) >= layerBytes - 8_000_000, "\(carried)")
        #expect((carried["fast"] ?? 0) >= layerBytes / 2, "\(carried)")
        // Every byte is counted once, for the route that brought it.
        let received = summary["bytesReceived"] as? Int ?? -1
        #expect(carried.values.reduce(0, +) == received && received == layerBytes, "\(carried), received \(received) of \(layerBytes)")
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)
    }
    /// A vantage whose answer comes after the layers began downloading (from the first two that
    /// agreed) joins the routes once it agrees: it measures itself on a small layer and carries
    /// its share, though it was too late to be one of the first sources.
    @Test func aVantageThatAgreesLateJoinsTheRoutesTheLayersComeOver() async throws {
        let lab = try await Lab()
        let scratch = try TemporaryDirectory(prefix: "latejoin")
        let socks = try await MicroSocks(bind: "127.0.0.4")
        // This machine's route and a near proxy, 3 MB/s each; a late one with a long round trip
        // (its SOCKS handshake and manifest take 4 of them: 2 s) but 8 MB/s once it answers.
        let local = try await ShapedRoute(
            upstreamPort: lab.registry.port, megabytesPerSecond: 3, rttMilliseconds: 20, passFrom: ["127.0.0.4"], in: scratch)
        let near = try await ShapedRoute(upstreamPort: socks.port, megabytesPerSecond: 3, rttMilliseconds: 20, in: scratch)
        let late = try await ShapedRoute(upstreamPort: socks.port, megabytesPerSecond: 8, rttMilliseconds: 500, in: scratch)
        defer { local.stop(); near.stop(); late.stop(); socks.stop() }
        // 18 MB: 3 s over the first two alone; the late one answers at 2 s.
        let layout = try lab.makeImage(layers: Array(repeating: 1_500_000, count: 12), seed: 29, content: .incompressible, gzipLevel: 1)
        _ = try lab.push(layout, "wan/latejoin", tag: "1")
        let vantages = try lab.vantagesFile(
            extra: Self.vantages([("local", nil), ("near", near.url(scheme: "socks5h")), ("late", late.url(scheme: "socks5h"))]), includeStandard: false)
        let archive = lab.home.file("latejoin.tar")
        let host = "127.0.0.1:\(local.port)"
        let run = try lab.run(["pull", "\(host)/wan/latejoin:1", "--output", archive, "--vantages", vantages, "--json", "--insecure-registry", host])
        #expect(run.status == 0, "\(run.stderr)")
        let (summary, carried) = try Self.routesCarried(run.stdout)
        let layerBytes = layout.images[0].layers.reduce(0) { $0 + Int($1.size) }
        #expect((carried["late"] ?? 0) >= 1_500_000, "the late vantage carried at least a layer: \(carried)")
        #expect((carried["local"] ?? 0) > 0 && (carried["near"] ?? 0) > 0, "\(carried)")
        let received = summary["bytesReceived"] as? Int ?? -1
        #expect(carried.values.reduce(0, +) == received && received == layerBytes, "\(carried), received \(received) of \(layerBytes)")
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)
    }
}
