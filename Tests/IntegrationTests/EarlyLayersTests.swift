import Foundation
import Report
import Testing
import TestSupport

/// Less waiting on the slowest route: each vantage resolves in as few exchanges as the protocol
/// allows, the layers start downloading (into the cache only) once two vantages agree, and the
/// report keeps when each vantage answered and how many bytes each route carried. Against a real
/// registry whose access log says which requests it answered, in which order.
@Suite("early layers", .serialized)
struct EarlyLayersTests {
    static let repository = "early/app"

    /// `-v`'s lines for one vantage's exchanges.
    static func exchanges(_ stderr: String, vantage: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains("http \(vantage): ") }
    }

    /// The registry's requests since `start`, with their position.
    static func requests(_ lab: Lab, since start: Int) -> [String] {
        Array(lab.registry.requests().dropFirst(start))
    }

    static func hex(_ digest: String) -> String { digest.replacingOccurrences(of: "sha256:", with: "") }

    @Test func eachVantageResolvesInTheFewestExchangesAndTheConfigComesOnce() async throws {
        let lab = try await Lab([.plainHTTP, .htpasswd(user: "tofu", password: "round-trips-pass"), .accessLog])
        let layout = try lab.makeImage(layers: [40_000, 3_000], seed: 31)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let vantages = try lab.vantagesFile()
        let reference = "\(lab.registry.host)/\(Self.repository):1"

        // resolve: per vantage, the manifest without a login (the registry's challenge) and with
        // it; no config, nothing else.
        var start = lab.registry.requests().count
        let resolve = try lab.run(["resolve", reference, "--vantages", vantages, "-v"] + lab.registryOptions())
        #expect(resolve.status == 0, "\(resolve.stderr)")
        for name in ["direct", "http-proxy", "socks"] {
            let lines = Self.exchanges(resolve.stderr, vantage: name)
            #expect(lines.count == 2, "\(name): \(lines)")
            #expect(lines.allSatisfy { $0.contains("/v2/\(Self.repository)/manifests/1 ") }, "\(name): \(lines)")
        }
        #expect(!Self.requests(lab, since: start).contains { $0.contains("/blobs/") }, "\(Self.requests(lab, since: start))")

        // pull: the config once for the run; each vantage answers the login challenge once, and
        // every later request of the run on that vantage carries what it got (no second 401).
        start = lab.registry.requests().count
        let output = lab.home.file("app.tar")
        let pull = try lab.run(["pull", reference, "--output", output, "--vantages", vantages, "-v"] + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")
        let requests = Self.requests(lab, since: start)
        for name in ["direct", "http-proxy", "socks"] {
            print("EarlyLayersTests: \(name) exchanges in resolve: \(Self.exchanges(resolve.stderr, vantage: name).count), in pull: \(Self.exchanges(pull.stderr, vantage: name).count)")
        }
        print("EarlyLayersTests: pull, registry answered: \(requests)")
        let configGets = requests.filter { $0.hasPrefix("GET /v2/\(Self.repository)/blobs/\(layout.configDigest) ") }
        #expect(configGets == ["GET /v2/\(Self.repository)/blobs/\(layout.configDigest) 200"], "\(requests)")
        #expect(requests.filter { $0.hasSuffix(" 401") }.count == 3, "\(requests)")
        #expect(requests.filter { $0.contains("/manifests/") && $0.hasSuffix(" 200") }.count == 3, "\(requests)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
    }

    /// `--all-platforms`: each vantage resolves the index and every entry's manifest, and no
    /// config; every blob the index reaches (each platform's and attestation's config, every
    /// layer) is asked of the registry once for the whole run.
    @Test func everyBlobOfAWholeIndexIsFetchedOnce() async throws {
        let lab = try await Lab([.plainHTTP, .accessLog])
        let layout = try lab.makeImage(layers: [30_000, 5_000], platforms: .multi, seed: 35)
        try #require(layout.isIndex && layout.images.count == 2 && layout.attestations.count == 2)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let output = lab.home.file("layout")
        let start = lab.registry.requests().count
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--all-platforms", "--format", "oci", "--output", output, "--vantages", try lab.vantagesFile()]
                + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")
        let requests = Self.requests(lab, since: start)
        let blobs = requests.filter { $0.contains("/blobs/") }
        #expect(Set(blobs).count == blobs.count, "a blob was fetched twice: \(requests)")
        for image in layout.images {
            #expect(blobs.contains("GET /v2/\(Self.repository)/blobs/\(image.config.digest) 200"), "\(image.platform)'s config: \(requests)")
        }
        // The index and its 4 entries' manifests, on each of the 3 vantages.
        #expect(requests.filter { $0.contains("/manifests/") }.count == 15, "\(requests)")
        let umoci = try Shell.run(["umoci", "ls", "--layout", output])
        #expect(umoci.status == 0, "\(umoci.stderr)")
    }

    /// A registry behind a Bearer login (nginx with TLS: a token service at /token, 401 with a
    /// challenge for any request without the token, the rest passed to docker-registry): a whole
    /// pull asks for each vantage's token once, and every later request of the run on that vantage
    /// (the other manifest, the config, the layers, early or not) carries it.
    @Test func aBearerTokenIsAskedForOncePerVantageForTheWholeRun() async throws {
        let ca = try TestCA()
        let lab = try await Lab()
        let empty = try TemporaryDirectory(prefix: "gate-root")
        let gate = try await NginxServer(
            root: empty.path, locations: NginxServer.bearerGate(token: "run-token", authorized: "proxy_pass http://\(lab.registry.host);"), tls: ca)
        defer { gate.stop() }
        let layout = try lab.makeImage(layers: [40_000, 3_000], platforms: .multi, seed: 34)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let output = lab.home.file("app.tar")
        let pull = try lab.run(
            ["pull", "127.0.0.1:\(gate.port)/\(Self.repository):1", "--output", output, "--vantages", try lab.vantagesFile(), "--ca-cert", ca.caCertPath, "-v"])
        #expect(pull.status == 0, "\(pull.stderr)")
        let lines = gate.accessLog().split(separator: "\n").map(String.init)
        print("EarlyLayersTests: behind the Bearer gate: \(lines.map { $0.split(separator: "\"").dropFirst().prefix(2).joined(separator: " ") })")
        #expect(lines.filter { $0.contains("\"GET /token") }.count == 3, "one token per vantage: \(lines)")
        #expect(lines.filter { $0.contains("\" 401 ") }.count == 3, "one challenge per vantage: \(lines)")
        // Per vantage: the index; the platform's manifest by one vantage at least, by each at most
        // (a vantage whose index names a manifest another already fetched takes that copy); the
        // config once for the run.
        let manifests = lines.filter { $0.contains("/manifests/") && $0.contains("\" 200 ") }
        #expect(manifests.filter { $0.contains("/manifests/1 ") }.count == 3, "\(lines)")
        #expect((1...3).contains(manifests.filter { $0.contains("/manifests/sha256:") }.count), "\(lines)")
        #expect(lines.filter { $0.contains("/blobs/\(layout.configDigest)") }.count == 1, "\(lines)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
    }

    /// A slow route (a relay adding 4 s of round trip in front of tinyproxy): the config and the
    /// layers are in the cache before the slow vantage's manifest request even reaches the
    /// registry; the output is written after its answer, and the report says when each vantage
    /// answered and how many bytes each route carried. The image is an index: the slow vantage,
    /// whose index names the platform's manifest by a digest the others already fetched (and
    /// checked against it), takes that copy instead of asking its route again: its one exchange
    /// is the index, and the registry sees the platform's manifest asked for twice, not three times.
    @Test func layersDownloadWhileTheSlowestVantageIsStillAnswering() async throws {
        let lab = try await Lab([.plainHTTP, .accessLog])
        let scratch = try TemporaryDirectory(prefix: "slow")
        let slow = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 50, rttMilliseconds: 4000, in: scratch)
        defer { slow.stop() }
        let layout = try lab.makeImage(
            layers: [300_000, 40_000], platforms: .index([.linuxAMD64], attestations: false), seed: 32, content: .incompressible)
        try #require(layout.isIndex)
        let platformManifest = try #require(layout.images.first?.manifest.digest)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("slow", proxy: slow.url(scheme: "http")), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let start = lab.registry.requests().count
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath, "--json", "-v"]
                + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")

        let requests = Self.requests(lab, since: start)
        print("EarlyLayersTests: registry answered, in order: \(requests)")
        let manifests = requests.indices.filter { requests[$0].contains("/manifests/1 ") }
        #expect(manifests.count == 3, "every vantage fetches the index itself: \(requests)")
        // Once or twice (the second fast vantage takes the first one's copy if it is there by
        // the time its index names it), never by the slow vantage: three would mean it asked too.
        #expect((1...2).contains(requests.filter { $0.contains("/manifests/\(platformManifest) ") }.count), "\(requests)")
        let slowExchanges = Self.exchanges(pull.stderr, vantage: "slow")
        #expect(slowExchanges.count == 1 && slowExchanges.allSatisfy { $0.contains("/manifests/1 ") }, "\(slowExchanges)")
        let slowManifest = try #require(manifests.last, "\(requests)")
        for layer in layout.layerDigests {
            let fetched = requests.firstIndex { $0.hasPrefix("GET /v2/\(Self.repository)/blobs/\(layer) 200") }
            #expect(fetched.map { $0 < slowManifest } == true, "layer \(layer) was not fetched before the slow vantage's request: \(requests)")
        }
        // The config too, once: nothing is left to fetch between the verdict and the writer.
        let configGets = requests.indices.filter { requests[$0].hasPrefix("GET /v2/\(Self.repository)/blobs/\(layout.configDigest) ") }
        #expect(configGets.count == 1 && configGets.allSatisfy { $0 < slowManifest }, "the config was not fetched early, once: \(requests)")

        let report = try ReportFile.read(reportPath)
        try ReportSchema.validate(reportPath: reportPath)
        #expect(report.vantages.count == 3 && report.vantages.allSatisfy { $0.observed?.image?.platformManifestDigest == platformManifest }, "\(report.vantages)")
        let seconds = Dictionary(uniqueKeysWithValues: report.vantages.map { ($0.name, $0.seconds) })
        #expect((seconds["slow"] ?? 0) >= 2, "the slow vantage's answer took the relay's round trips: \(seconds)")
        #expect((seconds["direct"] ?? 99) < (seconds["slow"] ?? 0) && (seconds["socks"] ?? 99) < (seconds["slow"] ?? 0), "\(seconds)")
        // The same bytes per route in the report as in --json, adding up to what was received.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(pull.stdout.utf8)) as? [String: Any], "\(pull.stdout)")
        let jsonRoutes = (summary["blobRoutes"] as? [[String: Any]] ?? []).map { AgreementReport.RouteBytes(vantage: $0["vantage"] as? String ?? "", bytes: Int64($0["bytes"] as? Int ?? -1)) }
        let routes = try #require(report.blobRoutes, "the report has no blobRoutes")
        print("EarlyLayersTests: answers after \(seconds) s; bytes by route \(routes); layers downloaded \(summary["layersDownloaded"] ?? "?"), streamed \(summary["layersStreamed"] ?? "?")")
        #expect(routes == jsonRoutes)
        #expect(routes.reduce(0) { $0 + $1.bytes } == Int64(summary["bytesReceived"] as? Int ?? -1), "\(routes) \(pull.stdout)")
        #expect(summary["layersDownloaded"] as? Int == 2, "\(pull.stdout)")
        #expect(!routes.contains { $0.vantage == "slow" }, "the slow route was still answering while the layers came: \(routes)")
        let shown = try lab.run(["report", "show", reportPath])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdout.contains("Bytes by route"), "\(shown.stdout)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
    }

    /// Small layers download a few at a time before the verdict: the first one (the smallest, in
    /// the writer's order) stalls for 3 s at a proxy in front of the registry and is then cut off;
    /// the proxy's log, in the order the requests arrived, shows the other layers asked for while
    /// it stalled, before it is asked for again. (One at a time, nothing else would be asked for
    /// until it came whole.) The slow vantage, behind a relay adding 4 s of round trip, keeps the
    /// verdict out meanwhile.
    @Test func smallLayersDownloadSideBySideBeforeTheVerdict() async throws {
        let lab = try await Lab([.plainHTTP])
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        defer { proxy.stop() }
        let scratch = try TemporaryDirectory(prefix: "side")
        let slow = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 50, rttMilliseconds: 4000, in: scratch)
        defer { slow.stop() }
        let layout = try lab.makeImage(layers: [40_000, 30_000, 20_000, 10_000], seed: 37, content: .incompressible)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let smallest = try #require(layout.images.first?.layers.min { $0.size < $1.size }?.digest)
        try proxy.inject([.init(path: "/blobs/\(smallest)", times: 1, .stall(afterBytes: 1000, seconds: 3))])
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("slow", proxy: slow.url(scheme: "http")), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let pull = try lab.run(
            ["pull", "\(proxy.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--insecure-registry", proxy.host])
        #expect(pull.status == 0, "\(pull.stderr)")
        let requests = proxy.requests().map { "\($0.fault) \($0.path)" }
        print("EarlyLayersTests: side by side, the proxy saw: \(requests)")
        let stalled = requests.indices.filter { requests[$0].hasSuffix("/blobs/\(smallest)") }
        try #require(stalled.count >= 2 && requests[stalled[0]].hasPrefix("stall "), "\(requests)")
        let others = layout.layerDigests.filter { $0 != smallest }
        let askedMeanwhile = others.filter { digest in
            requests.indices.contains { $0 > stalled[0] && $0 < stalled[1] && requests[$0].hasSuffix("/blobs/\(digest)") }
        }
        #expect(!askedMeanwhile.isEmpty, "no other layer was asked for while the smallest stalled: \(requests)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
    }

    /// Once the verdict is in, the archive's writer starts at once, while the early downloads
    /// still run: it takes each layer from the store as it lands. The last layer in the writer's
    /// order stalls for 8 s on both agreeing routes (a proxy in front of the registry; the route
    /// dropped for its stall hands it to the other, which stalls too, and the delivery then
    /// brings it); the slow vantage (2 s of round trip) holds the verdict out meanwhile. The
    /// staged archive already holds the first layer (its first MiB) while the last is nowhere near the store:
    /// seen seconds before the pull ends (a writer started only after the early downloads would
    /// show it a few milliseconds before).
    @Test func theWriterTakesEarlyLayersAsTheyLandWhileTheLastIsStillComing() async throws {
        let lab = try await Lab([.plainHTTP])
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        defer { proxy.stop() }
        let scratch = try TemporaryDirectory(prefix: "overlap")
        let slow = try await ShapedRoute(upstreamPort: lab.httpProxy.port, megabytesPerSecond: 50, rttMilliseconds: 2000, in: scratch)
        defer { slow.stop() }
        // The writer writes in requests of 1 MiB: the first layer fills one.
        let layout = try lab.makeImage(layers: [2_000_000, 1_200_000], seed: 38, content: .incompressible)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let image = try #require(layout.images.first)
        // The writer's order is by size (`LayerOrder`): the small layer first, the large one last.
        let first = try #require(image.layers.min { $0.size < $1.size })
        try #require(first.size > 1 << 20)
        let last = try #require(image.layers.max { $0.size < $1.size })
        try proxy.inject([.init(path: "/blobs/\(last.digest)", times: 2, .stall(afterBytes: 1000, seconds: 8))])
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("slow", proxy: slow.url(scheme: "http")), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let home = lab.home.path
        let pull = Task.detached {
            try lab.run(["pull", "\(proxy.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--insecure-registry", proxy.host])
        }
        let lastInStore = lab.home.file("cache/blobs/sha256/\(Self.hex(last.digest))")
        var seenAt: ContinuousClock.Instant?
        // Until the output is in place (or a minute, if the pull failed).
        let deadline = ContinuousClock.now + .seconds(60)
        while seenAt == nil, !FileManager.default.fileExists(atPath: output), ContinuousClock.now < deadline {
            let staged = temporaryLeftovers(in: home).compactMap { name in
                (try? FileManager.default.attributesOfItem(atPath: home + "/" + name)[.size] as? Int).map { Int64($0) }
            }
            if staged.contains(where: { $0 >= 1 << 20 }), !FileManager.default.fileExists(atPath: lastInStore) {
                seenAt = .now
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let result = try await pull.value
        let ended = ContinuousClock.now
        #expect(result.status == 0, "\(result.stderr)")
        let requests = proxy.requests().map { "\($0.fault) \($0.path)" }
        print("EarlyLayersTests: overlap, the proxy saw: \(requests); first layer staged \(seenAt.map { ended - $0 } ?? .zero) before the end")
        let staged = try #require(seenAt, "the first layer was not staged while the last one was still coming: \(requests)")
        #expect(ended - staged > .seconds(2), "the writer started only after the early downloads: \(requests)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
    }

    /// The late vantage (mitmproxy serving another image's manifest, behind a relay adding 4 s of
    /// round trip) dissents after the first two agreed and their layers came: exit 1, no output,
    /// nothing staged beside it. The layers the early downloads committed stay in the cache,
    /// each one hashing to its name (SECURITY.md: the cache trusts nothing by its name).
    @Test func aLateDissentWritesNothing() async throws {
        let lab = try await Lab([.plainHTTP, .accessLog])
        let good = try lab.makeImage(layers: [300_000, 40_000], seed: 33, content: .incompressible)
        let evil = try lab.makeImage(layers: [30_000], seed: 666)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        let mitm = try await MitmProxy(attack: .init(.swapManifest, replacementTag: "evil", targetTag: "1", registry: lab.registry.host))
        defer { mitm.stop() }
        let scratch = try TemporaryDirectory(prefix: "late")
        let late = try await ShapedRoute(upstreamPort: mitm.port, megabytesPerSecond: 50, rttMilliseconds: 4000, in: scratch)
        defer { late.stop() }
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("late-liar", proxy: late.url(scheme: "http")), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let start = lab.registry.requests().count
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath]
                + lab.registryOptions())

        #expect(pull.status == 1, "\(pull.stderr)")
        #expect(pull.stderr.contains("late-liar"), "\(pull.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        #expect(report.artifact == nil)
        #expect(report.vantages.first { $0.name == "late-liar" }?.observed?.image?.topDigest == evil.topDigest)

        // The layers did come before the liar's request reached the registry...
        let requests = Self.requests(lab, since: start)
        let lie = try #require(requests.firstIndex { $0.contains("/manifests/evil ") }, "\(requests)")
        for layer in good.layerDigests {
            let fetched = requests.firstIndex { $0.hasPrefix("GET /v2/\(Self.repository)/blobs/\(layer) 200") }
            #expect(fetched.map { $0 < lie } == true, "layer \(layer) was not fetched early: \(requests)")
        }
        // ...and only into the cache, where every blob is what its name says.
        let blobs = lab.home.file("cache/blobs/sha256")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? [] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: blobs + "/" + name))
            #expect(try Shell.sha256Hex(bytes) == name)
        }
    }
}
