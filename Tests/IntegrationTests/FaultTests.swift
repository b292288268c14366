import Foundation
import Testing
import TestSupport

/// A real registry (htpasswd, so every request carries credentials) behind `FaultProxy`, pulled
/// through the three standard routes by the real CLI. Each fault is either survived (exit 0,
/// the archive checked by skopeo) or refused clearly (exit 3, nothing written, the message
/// names the problem).
@Suite("registry faults", .serialized)
struct FaultTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var faults: [FaultProxy.Fault]
        var environment: [String: String] = [:]
        /// nil: the pull must succeed. Otherwise: exit 3 and stderr contains this.
        var failure: String?
        /// More that stderr must contain on failure.
        var alsoSays: [String] = []
        /// Something the proxy's request log must show afterwards (beyond the fault being applied).
        var check: (@Sendable ([FaultProxy.Request]) -> Bool)?
        var description: String { name }
    }

    static let manifests = "/v2/fault/app/manifests/"
    static let blobs = "/v2/fault/app/blobs/"

    /// `layer`: a path pattern that matches only the big layer's blob.
    static func cases(layer: String) -> [Case] {
        [
            Case(name: "503 then 502 on manifests", faults: [
                .init(path: manifests, times: 2, .status(503)), .init(path: manifests, times: 1, .status(502)),
            ]),
            Case(name: "500 on every blob, once each", faults: [.init(path: blobs, times: 3, .status(500))]),
            Case(name: "429 with Retry-After 1", faults: [.init(path: manifests, times: 1, .status(429, headers: ["Retry-After": "1"]))]),
            Case(name: "401 once on a blob with valid credentials", faults: [
                .init(path: layer, times: 1, .status(401, headers: ["WWW-Authenticate": #"Basic realm="3tofu-test""#])),
            ], check: { requests in
                // The refused request carried credentials, and the one after it did again.
                let hits = requests.filter { $0.path.range(of: layer, options: .regularExpression) != nil }
                return hits.count >= 2 && hits.allSatisfy(\.hadAuthorization)
            }),
            Case(name: "body cut half way, resumed with Range", faults: [.init(path: layer, times: 1, .cutBody(fraction: 0.5))], check: { requests in
                requests.contains { $0.path.range(of: layer, options: .regularExpression) != nil && ($0.range ?? "").hasPrefix("bytes=") && $0.range != "bytes=0-" }
            }),
            Case(name: "body cut, then Range ignored (whole body again)", faults: [
                .init(path: layer, times: 1, .cutBody(fraction: 0.4)), .init(path: layer, times: 1, .ignoreRange),
            ]),
            Case(name: "stalled body (low-speed timeout), resumed", faults: [.init(path: layer, times: 1, .stall(afterBytes: 300_000, seconds: 8))],
                 environment: ["THREETOFU_LOW_SPEED_TIME": "1"], check: { requests in
                     requests.contains { $0.path.range(of: layer, options: .regularExpression) != nil && $0.range != nil }
                 }),
            Case(name: "503 forever on manifests", faults: [.init(path: manifests, times: nil, .status(503))], failure: "HTTP 503"),
            Case(name: "429 asking for an hour", faults: [.init(path: manifests, times: nil, .status(429, headers: ["Retry-After": "3600"]))], failure: "rate-limiting"),
            Case(name: "redirect loop on a blob", faults: [.init(path: layer, times: nil, .redirectLoop)], failure: "a loop?"),
            Case(name: "redirect to ftp:// on a manifest", faults: [.init(path: manifests, times: nil, .redirect(location: "ftp://127.0.0.1/x"))], failure: "non-HTTP address"),
            // Refused before any connection: the metadata address is not routable here, so following
            // it would end in a connect error or timeout instead of this message.
            Case(name: "redirect to the link-local metadata address on a blob", faults: [
                .init(path: layer, times: nil, .redirect(location: "http://169.254.169.254/latest/meta-data/")),
            ], failure: "169.254.169.254, a link-local address", alsoSays: ["metadata"]),
            Case(name: "redirect to an IPv4-mapped link-local address on a manifest", faults: [
                .init(path: manifests, times: nil, .redirect(location: "http://[::ffff:169.254.169.254]/latest/meta-data/")),
            ], failure: "(IPv4 169.254.169.254)", alsoSays: ["link-local address"]),
        ]
    }

    @Test func everyFaultIsSurvivedOrRefusedClearly() async throws {
        let lab = try await Lab([.htpasswd(user: "fault", password: "s3cret-pw")])
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        defer { proxy.stop() }
        let layout = try lab.makeImage(layers: [3_000_000, 20_000], content: .incompressible)
        _ = try lab.push(layout, "fault/app", tag: "1")
        let layer = Self.blobs + (layout.images[0].layers[0].digest)
        // Credentials for the name the CLI sees (the proxy's).
        let auth = Data("fault:s3cret-pw".utf8).base64EncodedString()
        try #"{"auths": {"\#(proxy.host)": {"auth": "\#(auth)"}}}"#.write(toFile: lab.home.file(".docker/config.json"), atomically: true, encoding: .utf8)
        let vantages = try lab.vantagesFile()

        var survived = 0, refused = 0
        for (number, fault) in Self.cases(layer: layer).enumerated() {
            try proxy.inject(fault.faults)
            let before = proxy.requests().count
            let output = lab.home.file("out-\(number).tar")
            let result = try lab.run(
                ["pull", "\(proxy.host)/fault/app:1", "--output", output, "--vantages", vantages, "--insecure-registry", proxy.host],
                environment: ["THREETOFU_CACHE": lab.home.file("cache-\(number)")].merging(fault.environment) { $1 })
            let requests = Array(proxy.requests().dropFirst(before))
            #expect(requests.contains { $0.fault != "-" }, "\(fault): the fault was never applied")
            if let failure = fault.failure {
                #expect(result.status == 3, "\(fault): \(result.stderr)")
                #expect(result.stderr.contains(failure), "\(fault): \(result.stderr)")
                for words in fault.alsoSays { #expect(result.stderr.contains(words), "\(fault): \(result.stderr)") }
                #expect(!FileManager.default.fileExists(atPath: output), "\(fault)")
                refused += result.status == 3 ? 1 : 0
            } else {
                #expect(result.status == 0, "\(fault): \(result.stderr)")
                let inspect = try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"])
                #expect(inspect.status == 0, "\(fault): \(inspect.stderr)")
                let info = try? JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
                #expect((info?["Layers"] as? [String])?.count == 2, "\(fault): \(inspect.stdout.prefix(500))")
                // A cut or restarted body abandons the layer the archive writer was taking live: the
                // archive is written again from the store and must hold only the true bytes.
                #expect(try archiveBlobsMatchTheirNames(output) == [], "\(fault)")
                if let check = fault.check { #expect(check(requests), "\(fault): \(requests.map { "\($0.fault) \($0.range ?? "-") \($0.path)" })") }
                survived += result.status == 0 ? 1 : 0
            }
            #expect(temporaryLeftovers(in: lab.home.path).isEmpty, "\(fault)")
            #expect(!result.stderr.contains("s3cret-pw") && !result.stdout.contains("s3cret-pw"))
        }
        print("faults: \(survived) survived, \(refused) refused clearly, of \(Self.cases(layer: layer).count)")
        proxy.stop()
        lab.stop()
    }

    /// The first layer's body is cut while the archive writer takes it live; its resume abandons
    /// the feed and the archive is written again from the store, while the next layer (larger
    /// than a feed holds) still downloads: the pull finishes and the archive holds the true bytes.
    /// (That the writer then releases every feed is pinned by LiveLayerTests and LayerGateTests.)
    @Test func aCutLayerTheWriterWasTakingLiveThenALargeOneFinishes() async throws {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        defer { proxy.stop() }
        let layout = try lab.makeImage(layers: [400_000, 12_000_000], content: .incompressible)
        _ = try lab.push(layout, "fault/live", tag: "1")
        let small = layout.images[0].layers.min { $0.size < $1.size }!.digest
        try proxy.inject([.init(path: "/v2/fault/live/blobs/" + small, times: 1, .cutBody(fraction: 0.5))])
        let output = lab.home.file("out.tar")
        let result = try lab.run(
            ["pull", "\(proxy.host)/fault/live:1", "--output", output, "--vantages", try lab.vantagesFile(),
             "--insecure-registry", proxy.host, "--json"],
            environment: ["THREETOFU_CACHE": lab.home.file("cache")])
        #expect(proxy.requests().contains { $0.fault != "-" }, "the cut was never applied")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(summary?["layersStreamed"] as? Int == 0, "the archive kept is the one written from the store: \(result.stdout)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    @Test func cdnThatRejectsAuthorizationStillServesTheBlobs() async throws {
        let link = try TemporaryDirectory(prefix: "cdn-link")
        let root = link.file("storage")
        let cdn = try await FaultProxy(upstream: nil, serveFiles: root)
        defer { cdn.stop() }
        try cdn.inject([.init(path: "/", times: nil, .rejectAuthorization)])
        let registry = try await RegistryServer([.htpasswd(user: "cdn", password: "pw-cdn-1"), .redirectBlobs(baseURL: cdn.baseURL)])
        defer { registry.stop() }
        try FileManager.default.createSymbolicLink(atPath: root, withDestinationPath: registry.storagePath)
        let home = try TemporaryDirectory(prefix: "home")
        let auth = Data("cdn:pw-cdn-1".utf8).base64EncodedString()
        try FileManager.default.createDirectory(atPath: home.file(".docker"), withIntermediateDirectories: true)
        try #"{"auths": {"\#(registry.host)": {"auth": "\#(auth)"}}}"#.write(toFile: home.file(".docker/config.json"), atomically: true, encoding: .utf8)
        let layout = try TestImage.make(in: home.file("layout"), layers: [200_000])
        _ = try TestImage.push(layout, to: registry, repository: "cdn/app", tag: "1")
        let vantages = home.file("v.toml")
        try (1...3).map { "[[vantage]]\nname = \"v\($0)\"\nkind = \"local\"\n" }.joined().write(toFile: vantages, atomically: true, encoding: .utf8)
        let output = home.file("out.tar")
        let result = try ThreeTofuCLI.run(
            ["pull", "\(registry.host)/cdn/app:1", "--output", output, "--vantages", vantages,
             "--insecure-registry", registry.host, "--insecure-registry", cdn.host],
            home: home.path)
        #expect(result.status == 0, "\(result.stderr)")
        let blobRequests = cdn.requests().filter { $0.path.contains("/blobs/sha256/") }
        #expect(!blobRequests.isEmpty, "the registry did not redirect to the CDN")
        #expect(blobRequests.allSatisfy { !$0.hadAuthorization })
        // The CDN really refuses a request that carries Authorization.
        let refused = try Shell.run(["curl", "-s", "--noproxy", "*", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Basic eDp5", cdn.baseURL + "/x"])
        #expect(refused.stdout == "400")
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"]).status == 0)
    }

    /// DNS failure on one route: a proxy vantage whose proxy host name cannot resolve (`.invalid`
    /// never does, RFC 2606). The registry is named by IP here, so a failing resolver for the
    /// registry's own name cannot be staged per route; the proxy's name is the one real lookup
    /// that route makes.
    @Test func unresolvableRouteFailsStrictAndIsToleratedByTolerant() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [50_000])
        _ = try lab.push(layout, "dns/app", tag: "1")
        let vantages = try lab.vantagesFile(extra: "\n[[vantage]]\nname = \"lost\"\nkind = \"proxy\"\nproxy = \"http://no-such-proxy.invalid:3128\"\n")
        let strictOutput = lab.home.file("strict.tar")
        let strict = try lab.run(["pull", "\(lab.registry.host)/dns/app:1", "--output", strictOutput, "--vantages", vantages] + (try lab.registryOptions()))
        #expect(strict.status == 3, "\(strict.stderr)")
        #expect(strict.stderr.contains("lost"), "\(strict.stderr)")
        #expect(strict.stderr.lowercased().contains("resolve"), "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: strictOutput))

        let tolerantOutput = lab.home.file("tolerant.tar")
        let tolerant = try lab.run(["pull", "\(lab.registry.host)/dns/app:1", "--output", tolerantOutput, "--vantages", vantages, "--policy", "tolerant"] + (try lab.registryOptions()))
        #expect(tolerant.status == 0, "\(tolerant.stderr)")
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(tolerantOutput)"]).status == 0)
    }
}
