import Foundation
import Testing
import TestSupport

/// `blob_verification = "source"` over several agreeing routes: the layers come over all of them,
/// as each is measured to deliver, and a route that breaks midway hands its share to the others.
/// The routes are real proxies (tinyproxy, microsocks) behind bench/shaper.py relays that cap
/// their bandwidth; the registry is real.
@Suite struct RouteSpreadTests {
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
            extra: """
                [[vantage]]
                name = "first"
                kind = "proxy"
                proxy = "\(first.url(scheme: "http"))"

                [[vantage]]
                name = "second"
                kind = "proxy"
                proxy = "\(second.url(scheme: "socks5h"))"

                [[vantage]]
                name = "breaks"
                kind = "proxy"
                proxy = "\(breaks.url(scheme: "http"))"

                """, includeStandard: false)
        let archive = lab.home.file("spread.tar")
        let run = try lab.run(["pull", "\(lab.registry.host)/wan/spread:1", "--output", archive, "--vantages", vantages, "--json"] + lab.registryOptions())
        #expect(run.status == 0, "\(run.stderr)")
        print("RouteSpreadTests: \(run.stdout)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        let routes = try #require(summary["blobRoutes"] as? [[String: Any]], "\(run.stdout)")
        var carried: [String: Int] = [:]
        for route in routes { carried[route["vantage"] as? String ?? "?"] = route["bytes"] as? Int ?? 0 }
        let layerBytes = layout.images[0].layers.reduce(0) { $0 + Int($1.size) }
        #expect(Set(carried.keys).isSubset(of: ["first", "second", "breaks"]), "\(carried)")
        #expect((carried["first"] ?? 0) > 0 && (carried["second"] ?? 0) > 0, "both working routes carried layers: \(carried)")
        #expect((carried["breaks"] ?? 0) < 600_000, "the broken route landed nothing past its break: \(carried)")
        // What each route carried adds up to what was received; less than the layers only by what
        // the broken route left in a partial file that another route resumed.
        let received = summary["bytesReceived"] as? Int ?? -1
        #expect(carried.values.reduce(0, +) == received, "\(carried), received \(received)")
        #expect(received > layerBytes - 600_000 && received <= layerBytes, "received \(received) of \(layerBytes)")
        #expect(summary["layersDownloaded"] as? Int == 8)
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)
    }
}
