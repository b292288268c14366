import Foundation
import Report
import Testing
import TestSupport

/// One route goes through a real attacker (mitmproxy with examples/attacker.py): a rogue CA, a
/// hostile proxy, a swapped platform manifest or config blob. 3tofu must refuse, write nothing,
/// and say which route lied. Routes that merely fail (refused, silent) are judged by the policy.
@Suite("attacks on one route", .serialized)
struct AttackTests {
    static let repository = "attack/app"

    // MARK: - A manifest swapped on one route

    @Test func rogueCAOnOneRouteSwapsTheManifestAndIsNamed() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        let good = try lab.makeImage(layers: [40_000, 6_000], seed: 1)
        let evil = try lab.makeImage(layers: [40_000, 6_000], seed: 666)
        try #require(good.topDigest != evil.topDigest)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        let replacement = try Self.write(evil.blob(evil.topDigest), to: lab.home.file("evil-manifest.json"))
        let mitm = try await MitmProxy(
            attack: .init(.swapManifest, replacementPath: replacement, targetTag: "1", registry: lab.registry.host),
            upstreamCA: ca.caCertPath)
        defer { mitm.stop() }

        // The victim's route trusts the attacker's CA (a rogue CA), besides the real one from --ca-cert.
        let vantages = try lab.vantagesFile(
            extra: Self.proxyVantage("hostile-wifi", proxy: mitm.url, caCert: mitm.caCertPath), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath]
                + lab.registryOptions())

        #expect(result.status == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        #expect(result.stderr.contains("hostile-wifi"), "\(result.stderr)")
        #expect(mitm.rewrites().contains { $0.contains("/v2/\(Self.repository)/manifests/1 ") && $0.contains(evil.topDigest) }, "\(mitm.rewrites())")

        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        #expect(report.artifact == nil)
        let hostile = try #require(report.vantages.first { $0.name == "hostile-wifi" })
        #expect(hostile.observed?.image?.topDigest == evil.topDigest)
        let hostileLeaf = try #require(hostile.evidence?.tlsCertificateSHA256.first)
        #expect(hostileLeaf != ca.leafSHA256Fingerprint)
        let honest = report.vantages.filter { $0.name != "hostile-wifi" }
        #expect(honest.count == 2)
        for vantage in honest {
            #expect(vantage.observed?.image?.topDigest == good.topDigest, "\(vantage.name)")
            #expect(vantage.evidence?.tlsCertificateSHA256.first == ca.leafSHA256Fingerprint, "\(vantage.name)")
        }
        let manifestComparison = try #require(report.comparisons.first { $0.item == "manifest" })
        #expect(!manifestComparison.agree)
        #expect(manifestComparison.values["hostile-wifi"] == evil.topDigest)
    }

    @Test func hostileProxyServingAnotherIndexIsRefused() async throws {
        let lab = try await Lab()
        let good = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 2)
        let evil = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 667)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        try #require(good.isIndex && evil.isIndex)
        // This attacker asks the registry for tag "evil" instead, so the headers are the registry's own.
        let mitm = try await MitmProxy(attack: .init(.swapManifest, replacementTag: "evil", targetTag: "1", registry: lab.registry.host))
        defer { mitm.stop() }

        let vantages = try lab.vantagesFile(extra: Self.proxyVantage("hostile-proxy", proxy: mitm.url), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--platform", "linux/amd64", "--output", output, "--vantages", vantages, "--report", reportPath]
                + lab.registryOptions())

        #expect(result.status == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        #expect(result.stderr.contains("hostile-proxy"), "\(result.stderr)")
        #expect(mitm.rewrites().contains { $0.contains("/v2/\(Self.repository)/manifests/1 ") && $0.contains(evil.topDigest) }, "\(mitm.rewrites())")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        let hostile = try #require(report.vantages.first { $0.name == "hostile-proxy" })
        #expect(hostile.observed?.image?.topDigest == evil.topDigest)
        #expect(hostile.observed?.image?.platformManifestDigest == evil.manifestDigests["linux/amd64"])
        #expect(report.vantages.filter { $0.name != "hostile-proxy" }.allSatisfy { $0.observed?.image?.topDigest == good.topDigest })
    }

    // MARK: - One platform's manifest, or the config, swapped on one route

    @Test func swappedPlatformManifestIsRefusedOnlyForThatPlatform() async throws {
        let lab = try await Lab()
        let good = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 3)
        let evil = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 668)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        let target = try #require(good.manifestDigests["linux/arm64/v8"])
        let evilARM = try #require(evil.manifestDigests["linux/arm64/v8"])
        let replacement = try Self.write(evil.blob(evilARM), to: lab.home.file("evil-arm64.json"))
        let mitm = try await MitmProxy(attack: .init(.swapPlatformManifest, replacementPath: replacement, targetDigest: target, registry: lab.registry.host))
        defer { mitm.stop() }
        let vantages = try lab.vantagesFile(extra: Self.proxyVantage("hostile-proxy", proxy: mitm.url))

        // Under "every-vantage" every route fetches the platform's manifest itself. (Under "source"
        // a vantage takes the copy another vantage already fetched by that digest, if there is one,
        // `SharedManifests`: then the hostile route may never be asked, and the true manifest is used.)
        let policy = try Self.everyVantagePolicy(lab)
        let armOutput = lab.home.file("arm.tar")
        let reportPath = lab.home.file("arm-report.json")
        let arm = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--platform", "linux/arm64", "--output", armOutput, "--vantages", vantages, "--report", reportPath,
             "--policy", policy] + lab.registryOptions())
        // The client asks for the arm64 manifest by digest, so the swapped body cannot pass as it:
        // bytes that do not match their digest are tampering on that route, a dissent (exit 1).
        #expect(arm.status == 1, "\(arm.stderr)")
        #expect(!FileManager.default.fileExists(atPath: armOutput))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        #expect(arm.stderr.contains("hostile-proxy"), "\(arm.stderr)")
        #expect(mitm.rewrites().contains { $0.contains("/manifests/\(target)") }, "\(mitm.rewrites())")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        let hostile = try #require(report.vantages.first { $0.name == "hostile-proxy" })
        #expect(hostile.status == .tampered)
        #expect(hostile.observed == nil)
        #expect(hostile.error?.contains(target) == true, "\(hostile.error ?? "no error text")")
        #expect(report.vantages.filter { $0.name != "hostile-proxy" }.allSatisfy { $0.status == .ok && $0.observed?.image?.platformManifestDigest == target })

        // The same attacker leaves linux/amd64 alone: that pull agrees and writes.
        let rewritesBefore = mitm.rewrites().count
        let amdOutput = lab.home.file("amd.tar")
        let amd = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--platform", "linux/amd64", "--output", amdOutput, "--vantages", vantages]
                + lab.registryOptions())
        #expect(amd.status == 0, "\(amd.stderr)")
        #expect(FileManager.default.fileExists(atPath: amdOutput))
        #expect(mitm.rewrites().count == rewritesBefore)
    }

    /// Under "source", the same swap on a route that answers late (behind a relay adding 2 s of
    /// round trip): by the time its index arrives the others have fetched the platform's manifest
    /// by that digest, so the hostile route is never asked for it (`SharedManifests`), its bytes are
    /// never used, and the pull writes the true image.
    @Test func aSwappedPlatformManifestOnALateRouteIsNeverUsed() async throws {
        let lab = try await Lab([.plainHTTP])
        let good = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 7)
        let evil = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 669)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        let target = try #require(good.manifestDigests["linux/amd64"])
        let replacement = try Self.write(evil.blob(try #require(evil.manifestDigests["linux/amd64"])), to: lab.home.file("evil-amd64.json"))
        let mitm = try await MitmProxy(attack: .init(.swapPlatformManifest, replacementPath: replacement, targetDigest: target, registry: lab.registry.host))
        defer { mitm.stop() }
        let scratch = try TemporaryDirectory(prefix: "late-swap")
        let late = try await ShapedRoute(upstreamPort: mitm.port, megabytesPerSecond: 50, rttMilliseconds: 2000, in: scratch)
        defer { late.stop() }
        let vantages = try lab.vantagesFile(extra: Self.proxyVantage("late-hostile", proxy: late.url(scheme: "http")), only: [.direct, .socks])
        let output = lab.home.file("amd.tar")
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--platform", "linux/amd64", "--output", output, "--vantages", vantages]
                + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(!mitm.rewrites().contains { $0.contains("/manifests/\(target)") }, "the late route was asked for the manifest: \(mitm.rewrites())")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
        let amd = try #require(good.images.first { $0.platform == "linux/amd64" })
        let members = try Shell.run(["tar", "-tf", output]).stdout.split(separator: "\n").map(String.init)
        #expect(members.contains("blobs/sha256/" + amd.config.digest.replacingOccurrences(of: "sha256:", with: "")), "the true config: \(members)")
    }

    /// A policy file like strict, but every vantage fetches and hashes every blob (plain HTTP allowed).
    static func everyVantagePolicy(_ lab: Lab) throws -> String {
        let policy = lab.home.file("every.toml")
        try """
            name = "every-vantage, plain HTTP allowed"
            description = "Every vantage hashes every blob."
            min_agreeing = 3
            max_unavailable = 0
            blob_verification = "every-vantage"
            require_route_kinds = []
            allow_insecure_registries = true

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        return policy
    }

    /// A hostile route that swaps the config blob (other bytes, same JSON, same length: the final
    /// line feed becomes a space; a longer config is stopped at its descriptor's size).
    static func swappedConfig(_ lab: Lab, seed: Int) async throws -> (good: TestImageLayout, config: Data, mitm: MitmProxy) {
        let good = try lab.makeImage(layers: [30_000], seed: seed)
        _ = try lab.push(good, Self.repository, tag: "1")
        var config = try good.blob(good.configDigest)
        config[config.count - 1] = UInt8(ascii: " ")
        let replacement = try Self.write(config, to: lab.home.file("evil-config.json"))
        let mitm = try await MitmProxy(attack: .init(.swapBlob, replacementPath: replacement, targetDigest: good.configDigest, registry: lab.registry.host))
        return (good, config, mitm)
    }

    /// Under "source" the manifest fixes the config's digest, so the config is fetched once, in
    /// the delivery, like a layer: the hostile route is asked first (no local vantage), its bytes
    /// do not hash to the agreed digest and are passed over, and the config comes from the next
    /// route. The archive holds the true config.
    @Test func swappedConfigBlobOnTheDownloadRouteIsPassedOver() async throws {
        let lab = try await Lab()
        let (good, _, mitm) = try await Self.swappedConfig(lab, seed: 4)
        defer { mitm.stop() }
        let vantages = try lab.vantagesFile(
            extra: Self.proxyVantage("hostile-proxy", proxy: mitm.url) + Self.proxyVantage("http-proxy", proxy: lab.httpProxy.url)
                + Self.proxyVantage("socks", proxy: lab.socksProxy.url(h: true)),
            only: [])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath] + lab.registryOptions())

        #expect(mitm.rewrites().contains { $0.contains("/blobs/\(good.configDigest)") }, "the hostile route never served the config: \(mitm.rewrites())")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try archiveBlobsMatchTheirNames(output) == [], "every blob in the archive hashes to its name")
        let members = try Shell.run(["tar", "-tf", output])
        let configMember = "blobs/sha256/" + good.configDigest.replacingOccurrences(of: "sha256:", with: "")
        #expect(members.stdout.split(separator: "\n").contains { $0 == configMember }, "the archive holds the true config: \(members.stdout)")
        // No vantage fetched the config while resolving: nothing of it is compared.
        let report = try ReportFile.read(reportPath)
        #expect(report.vantages.allSatisfy { $0.observed?.image?.configReceived == nil })
        #expect(!report.comparisons.contains { $0.item == "config bytes" })
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    /// Under "every-vantage" every route fetches the config while it resolves and the bytes each
    /// received are compared: the hostile route dissents, nothing is written.
    @Test func swappedConfigBlobOnOneRouteIsRefusedWhenEveryVantageHashes() async throws {
        let lab = try await Lab()
        let (good, config, mitm) = try await Self.swappedConfig(lab, seed: 5)
        defer { mitm.stop() }
        let policy = try Self.everyVantagePolicy(lab)
        let vantages = try lab.vantagesFile(extra: Self.proxyVantage("hostile-proxy", proxy: mitm.url), only: [.direct, .httpProxy])
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--report", reportPath, "--policy", policy]
                + lab.registryOptions())

        #expect(result.status == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        #expect(mitm.rewrites().contains { $0.contains("/blobs/\(good.configDigest)") }, "the hostile route never fetched the config: \(mitm.rewrites())")
        #expect(result.stderr.contains("hostile-proxy"), "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        let hostile = try #require(report.vantages.first { $0.name == "hostile-proxy" })
        let direct = try #require(report.vantages.first { $0.name == "direct" })
        #expect(direct.observed?.image?.configReceived == good.configDigest)
        #expect(hostile.observed?.image?.configDigest == good.configDigest)
        #expect(hostile.observed?.image?.configReceived == "sha256:" + (try Shell.sha256Hex(config)))
        let configBytes = try #require(report.comparisons.first { $0.item == "config bytes" })
        #expect(!configBytes.agree)
    }

    /// The layer is swapped (same length, a few bytes flipped) on the route the layers are
    /// downloaded from, and the archive writer takes that download as it arrives: the bytes
    /// fail their digest only at the end, after the writer has taken every one of them. The
    /// layer must come from another route and the archive must hold only the true bytes.
    @Test func aLayerSwappedOnTheDownloadRouteNeverReachesTheArchive() async throws {
        let lab = try await Lab()
        // One layer: its download is the first and only one, so it always streams to the writer
        // (with a smaller layer first, a busy machine could let that feed sit unclaimed, and the
        // swapped layer would go to the store alone: correct, but not the case under test).
        let good = try lab.makeImage(layers: [3_000_000], seed: 6, content: .incompressible)
        _ = try lab.push(good, Self.repository, tag: "1")
        let target = good.layerDigests[0]
        var layer = try good.blob(target)
        for offset in stride(from: 1_000_000, to: 1_000_064, by: 1) { layer[offset] ^= 0xFF }
        let replacement = try Self.write(layer, to: lab.home.file("evil-layer"))
        let mitm = try await MitmProxy(attack: .init(.swapBlob, replacementPath: replacement, targetDigest: target, registry: lab.registry.host))
        defer { mitm.stop() }
        // No local vantage: the first vantage listed, the hostile one, is where layers come from.
        let vantages = try lab.vantagesFile(
            extra: Self.proxyVantage("hostile-proxy", proxy: mitm.url)
                + Self.proxyVantage("http-proxy", proxy: lab.httpProxy.url)
                + Self.proxyVantage("socks", proxy: lab.socksProxy.url(h: true)),
            only: [])
        let output = lab.home.file("app.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", vantages, "--json"] + lab.registryOptions())

        #expect(mitm.rewrites().contains { $0.contains("/blobs/\(target)") }, "the hostile route never served the layer: \(mitm.rewrites())")
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(summary?["layersStreamed"] as? Int == 0, "the archive was written again from the store: \(result.stdout)")
        #expect(try archiveBlobsMatchTheirNames(output) == [], "every blob in the archive hashes to its name")
        let copy = try Shell.run(["skopeo", "copy", "--quiet", "docker-archive:\(output)", "oci:\(lab.home.file("copy")):1"])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    // MARK: - Routes that fail rather than lie: the policy decides

    @Test func refusedRouteFailsStrictButToleratedByTolerant() async throws {
        let lab = try await Lab()
        let good = try lab.makeImage(layers: [20_000], seed: 5)
        _ = try lab.push(good, Self.repository, tag: "1")
        let closedPort = try FreePort.pick()
        try #require(!FreePort.isAccepting(port: closedPort))
        let vantages = try lab.vantagesFile(extra: Self.proxyVantage("closed-door", proxy: "http://127.0.0.1:\(closedPort)"))
        let reference = "\(lab.registry.host)/\(Self.repository):1"

        let strictOutput = lab.home.file("strict.tar")
        let strict = try lab.run(["pull", reference, "--output", strictOutput, "--vantages", vantages] + lab.registryOptions())
        #expect(strict.status == 3, "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: strictOutput))
        #expect(strict.stderr.contains("closed-door"), "\(strict.stderr)")

        let tolerantOutput = lab.home.file("tolerant.tar")
        let reportPath = lab.home.file("tolerant-report.json")
        let tolerant = try lab.run(
            ["pull", reference, "--output", tolerantOutput, "--vantages", vantages, "--policy", "tolerant", "--report", reportPath] + lab.registryOptions())
        #expect(tolerant.status == 0, "\(tolerant.stderr)")
        #expect(FileManager.default.fileExists(atPath: tolerantOutput))
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        #expect(report.policy.name == "tolerant")
        let closed = try #require(report.vantages.first { $0.name == "closed-door" })
        #expect(closed.status == .error)
        #expect(closed.observed == nil)
        #expect(closed.error?.isEmpty == false)
        #expect(report.vantages.filter { $0.status == .ok }.count == 3)
        #expect(report.agreed?.image?.topDigest == good.topDigest)
    }

    @Test func silentRouteTimesOutWithoutHoldingUpTheOthers() async throws {
        let lab = try await Lab()
        let good = try lab.makeImage(layers: [20_000], seed: 6)
        _ = try lab.push(good, Self.repository, tag: "1")
        let silent = try await SilentListener()
        defer { silent.stop() }
        let vantages = try lab.vantagesFile(extra: Self.proxyVantage("silent", proxy: "http://127.0.0.1:\(silent.port)"))
        let reference = "\(lab.registry.host)/\(Self.repository):1"
        let timeout = 3.0

        let strictOutput = lab.home.file("strict.tar")
        let strictStart = ContinuousClock.now
        let strict = try lab.run(["pull", reference, "--output", strictOutput, "--vantages", vantages, "--vantage-timeout", "3"] + lab.registryOptions())
        let strictElapsed = ContinuousClock.now - strictStart
        #expect(strict.status == 3, "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: strictOutput))
        #expect(strict.stderr.contains("silent"), "\(strict.stderr)")
        #expect(strictElapsed < .seconds(timeout + 10), "strict run took \(strictElapsed)")

        let tolerantOutput = lab.home.file("tolerant.tar")
        let reportPath = lab.home.file("report.json")
        let tolerantStart = ContinuousClock.now
        let tolerant = try lab.run(
            ["pull", reference, "--output", tolerantOutput, "--vantages", vantages, "--vantage-timeout", "3", "--policy", "tolerant", "--report", reportPath]
                + lab.registryOptions())
        let tolerantElapsed = ContinuousClock.now - tolerantStart
        #expect(tolerant.status == 0, "\(tolerant.stderr)")
        #expect(FileManager.default.fileExists(atPath: tolerantOutput))
        #expect(tolerantElapsed < .seconds(timeout + 10), "tolerant run took \(tolerantElapsed)")
        let report = try ReportFile.read(reportPath)
        let silentEntry = try #require(report.vantages.first { $0.name == "silent" })
        #expect(silentEntry.status == .error)
        #expect(silentEntry.seconds < timeout + 5)
        #expect(silent.acceptedConnections() > 0, "the silent route was never tried")
    }

    // MARK: - Reports and secrets

    @Test func reportNeverHoldsCredentials() async throws {
        let ca = try TestCA()
        let user = "carol"
        let password = "s3cret-Pa55-for-report"
        let lab = try await Lab([.tls(ca), .htpasswd(user: user, password: password)])
        let good = try lab.makeImage(layers: [20_000], seed: 7)
        _ = try lab.push(good, Self.repository, tag: "1")
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", output, "--vantages", try lab.vantagesFile(), "--report", reportPath]
                + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: reportPath, encoding: .utf8)
        let basic = Data("\(user):\(password)".utf8).base64EncodedString()
        #expect(!text.contains(password))
        #expect(!text.contains(basic))
        #expect(!text.lowercased().contains("bearer"))
        #expect(!text.lowercased().contains("basic "))
        #expect(!text.lowercased().contains("authorization"))
        #expect(!text.lowercased().contains("token"))
        // The report is real: every vantage answered over TLS through the authenticated registry.
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        #expect(report.vantages.count == 3)
        #expect(report.vantages.allSatisfy { $0.evidence?.tlsCertificateSHA256.first == ca.leafSHA256Fingerprint })
        for stream in [result.stdout, result.stderr] {
            #expect(!stream.contains(password))
            #expect(!stream.contains(basic))
        }
    }

    // MARK: - Helpers

    static func write(_ data: Data, to path: String) throws -> String {
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    static func proxyVantage(_ name: String, proxy: String, caCert: String? = nil) -> String {
        var text = "\n[[vantage]]\nname = \"\(name)\"\nkind = \"proxy\"\nproxy = \"\(proxy)\"\n"
        if let caCert { text += "ca_cert = \"\(caCert)\"\n" }
        return text
    }
}

/// The standard lab vantages, to build vantages files with only some of them.
enum StandardVantage {
    case direct, httpProxy, socks
}

extension Lab {
    /// A vantages file with the chosen standard vantages, then `extra` TOML.
    func vantagesFile(extra: String, only standard: [StandardVantage]) throws -> String {
        var text = ""
        for vantage in standard {
            switch vantage {
            case .direct: text += "[[vantage]]\nname = \"direct\"\nkind = \"local\"\n\n"
            case .httpProxy: text += "[[vantage]]\nname = \"http-proxy\"\nkind = \"proxy\"\nproxy = \"\(httpProxy.url)\"\n\n"
            case .socks: text += "[[vantage]]\nname = \"socks\"\nkind = \"proxy\"\nproxy = \"\(socksProxy.url(h: true))\"\n\n"
            }
        }
        return try vantagesFile(extra: text + extra, includeStandard: false)
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never answers: a route that hangs.
final class SilentListener: Sendable {
    let port: Int
    let process: ManagedProcess
    private let directory: TemporaryDirectory

    init() async throws {
        let directory = try TemporaryDirectory(prefix: "silent")
        let counter = directory.file("accepted")
        let script = """
            import socket, sys
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", int(sys.argv[1])))
            server.listen(64)
            held = []
            while True:
                connection, _ = server.accept()
                held.append(connection)
                with open(sys.argv[2], "a") as log:
                    log.write("accepted\\n")
            """
        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            let process = try ManagedProcess(executable: "python3", arguments: ["-c", script, String(port), counter])
            do {
                try await process.waitForPort(port, timeout: .seconds(10))
                self.port = port
                self.process = process
                self.directory = directory
                return
            } catch {
                process.stop()
                lastError = error
            }
        }
        throw lastError ?? FixtureError("the silent listener did not start")
    }

    /// Connections accepted so far, besides the one `waitForPort` made.
    func acceptedConnections() -> Int {
        let text = (try? String(contentsOfFile: directory.file("accepted"), encoding: .utf8)) ?? ""
        return max(0, text.split(separator: "\n").count - 1)
    }

    func stop() { process.stop() }
}
