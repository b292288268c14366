import Foundation
import Testing
import TestSupport

/// A split whose tail comes over an SSH vantage: the range request is made on the remote host, by
/// its curl or by `3tofu agent`, and the tail's bytes come back through the SSH session into the
/// split's file (RouteSplitTests has the routes over proxies).
@Suite("A split's tail over SSH", .serialized)
struct RouteSplitSSHTests {
    /// "first" (an HTTP proxy behind a 6 MB/s relay) answers first and brings the large layer's
    /// head; "vps" (a real sshd behind a 4 MB/s relay, so that it is no route fast enough to keep
    /// every layer) measures its pace on the second small layer, then, idle, takes the large
    /// layer's tail; "far" (2 MB/s, 1.5 s round trip) makes the three the default policy needs,
    /// and answers last: the layers start downloading over "first" and "vps" once those two
    /// agree (`EarlyLayers`), "first" the preferred route (the SSH login takes more round trips).
    @Test(arguments: ["curl", "3tofu"])
    func aTailOverSSHLandsAndIsCountedForTheSSHVantage(agent: String) async throws {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        defer { proxy.stop() }
        let agentDirectory = URL(fileURLWithPath: try ThreeTofuCLI.executable).deletingLastPathComponent().path
        let server = try await SSHServer(environment: agent == "3tofu" ? ["PATH": "\(agentDirectory):/usr/bin:/bin"] : [:])
        defer { server.killEverything() }
        let scratch = try TemporaryDirectory(prefix: "split-ssh")
        let first = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 6, rttMilliseconds: 20, in: scratch)
        let vps = try await ShapedRoute(upstreamPort: server.port, megabytesPerSecond: 4, rttMilliseconds: 20, in: scratch)
        let far = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 2, rttMilliseconds: 1500, in: scratch)
        defer { first.stop(); vps.stop(); far.stop() }
        // The host key, vouched for at the relay's address.
        let hostKey = try String(contentsOfFile: server.hostKeyPath + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let knownHosts = scratch.file("known_hosts")
        try "[127.0.0.1]:\(vps.port) \(hostKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let ssh = SSHVantageTests.sshVantage("vps", server, knownHosts: knownHosts, port: vps.port, agent: agent)
        let vantages = try lab.vantagesFile(
            extra: RouteSpreadTests.vantages([("first", first.url(scheme: "http")), ("far", far.url(scheme: "http"))]) + "\n" + ssh, includeStandard: false)
        let layout = try lab.makeImage(layers: [1_500_000, 2_000_000, 24_000_000], seed: 61, content: .incompressible, gzipLevel: 1)
        _ = try lab.push(layout, "wan/sshtail", tag: "1")
        let layers = try #require(layout.images.first?.layers)
        let large = try #require(layers.max { $0.size < $1.size })
        let sizes = layers.map(\.size).sorted()

        let archive = lab.home.file("sshtail.tar")
        let run = try lab.run(
            ["pull", "\(proxy.host)/wan/sshtail:1", "--output", archive, "--vantages", vantages, "--json", "--insecure-registry", proxy.host],
            timeout: .seconds(60))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(archive)"]).status == 0)

        let requests = proxy.requests().filter { $0.path.hasSuffix("/blobs/\(large.digest)") }
        let (summary, carried) = try RouteSpreadTests.routesCarried(run.stdout)
        let log = requests.map { $0.range ?? "-" }.joined(separator: ", ")
        print("RouteSplitSSHTests \(agent): layer requests [\(log)], carried \(carried), received \(summary["bytesReceived"] ?? "?")")
        let ranged = requests.compactMap(\.rangeStart)
        try #require(ranged.count == 1 && requests.count == 2, "the head's request and one tail request: \(log)")
        let k = ranged[0]
        // "vps" brought the second small layer (its pace) and every byte from k: the tail; "first"
        // the smallest layer and the head up to k. No other route could have: "far" carried nothing.
        #expect(carried == ["first": sizes[0] + k, "vps": sizes[1] + large.size - k], "k \(k): \(carried)")
        let answered = try #require(summary["vantages"] as? [[String: Any]]).map { "\($0["name"] ?? "?") \($0["seconds"] ?? "?")" }
        print("RouteSplitSSHTests \(agent): answers \(answered)")
        #expect(summary["bytesReceived"] as? Int == sizes.reduce(0, +))
        #expect(server.log().contains("Accepted publickey"))
    }
}
