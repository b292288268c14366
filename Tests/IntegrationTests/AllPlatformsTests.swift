import Foundation
import Report
import Testing
import TestSupport

/// `pull --all-platforms`: every vantage resolves the whole index (each platform's manifest and
/// config, the attestation manifests too); on agreement the OCI layout or oci-archive holds the
/// index byte for byte with every entry, read back by skopeo and umoci.
@Suite("pull --all-platforms", .serialized)
struct AllPlatformsTests {
    static let repository = "all/app"

    /// Every blob the index reaches (manifests, attestation manifests, configs, layers).
    static func reachable(_ layout: TestImageLayout) -> [String] {
        var digests = layout.images.flatMap { [$0.manifest.digest, $0.config.digest] + $0.layers.map(\.digest) }
        digests += layout.attestations.map(\.manifest.digest)
        return digests
    }

    @Test func everyPlatformAndAttestationToAnOCILayoutReadBackBySkopeoAndUmoci() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [30_000, 5_000], platforms: .multi, seed: 41)
        try #require(layout.isIndex && layout.images.count == 2 && layout.attestations.count == 2)
        _ = try lab.push(layout, Self.repository, tag: "1")
        let output = lab.home.file("layout")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--all-platforms", "--format", "oci", "--output", output,
             "--vantages", try lab.vantagesFile(), "--report", reportPath] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(layout.topDigest), "\(result.stdout)")

        // The index as the registry holds it, byte for byte (its digest is the agreed one).
        let raw = try Shell.run(["skopeo", "inspect", "--raw", "oci:\(output):1"])
        #expect(raw.status == 0, "\(raw.stderr)")
        #expect("sha256:" + (try Shell.sha256Hex(Data(raw.stdout.utf8))) == layout.topDigest)
        // Every platform read back by skopeo through the index: each platform's own config.
        for (arch, variant, platform) in [("amd64", nil, "linux/amd64"), ("arm64", "v8", "linux/arm64/v8")] as [(String, String?, String)] {
            var arguments = ["skopeo", "inspect", "--config", "--raw", "--override-os", "linux", "--override-arch", arch]
            if let variant { arguments += ["--override-variant", variant] }
            let config = try Shell.run(arguments + ["oci:\(output):1"])
            #expect(config.status == 0, "\(config.stderr)")
            #expect("sha256:" + (try Shell.sha256Hex(Data(config.stdout.utf8))) == layout.image(for: platform)?.config.digest, "\(platform)")
        }
        // Every blob the index reaches, attestations included, is in the layout and hashes to its name.
        for digest in Self.reachable(layout) {
            let path = "\(output)/blobs/sha256/\(digest.dropFirst("sha256:".count))"
            let bytes = try #require(FileManager.default.contents(atPath: path), "\(digest) missing from the layout")
            #expect("sha256:" + (try Shell.sha256Hex(bytes)) == digest)
        }
        // skopeo copies the whole index out of it (it reads every manifest and blob).
        let copy = try Shell.run(["skopeo", "copy", "--all", "oci:\(output):1", "oci:\(lab.home.file("copy")):1"])
        #expect(copy.status == 0, "\(copy.stderr)")
        let copied = try Shell.run(["skopeo", "inspect", "--raw", "oci:\(lab.home.file("copy")):1"])
        #expect("sha256:" + (try Shell.sha256Hex(Data(copied.stdout.utf8))) == layout.topDigest)
        let umoci = try Shell.run(["umoci", "ls", "--layout", output])
        #expect(umoci.status == 0, "\(umoci.stderr)")
        #expect(umoci.stdout.split(separator: "\n").contains("1"), "\(umoci.stdout)")

        // The report compares every entry, and `report verify` recomputes the verdict from it.
        try ReportSchema.validate(reportPath: reportPath)
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        #expect(report.subject.platform == "all")
        let items = Set(report.comparisons.map(\.item))
        // Each entry: its platform and its manifest, compared on all three vantages.
        let entries = (1...4).map { number in
            (platform: report.comparisons.first { $0.item == "entry \(number) platform" }, manifest: report.comparisons.first { $0.item == "entry \(number) manifest" })
        }
        for image in layout.images {
            let entry = entries.first { $0.platform?.values["direct"] == image.platform }
            #expect(entry?.manifest?.values.count == 3 && entry?.manifest?.agree == true, "\(image.platform): \(items.sorted())")
            #expect(entry?.manifest?.values.values.allSatisfy { $0 == image.manifest.digest } == true)
        }
        let attestations = entries.filter { $0.platform?.values["direct"] == "unknown/unknown (attestation)" }
        #expect(Set(attestations.compactMap { $0.manifest?.values["direct"] }) == Set(layout.attestations.map(\.manifest.digest)), "\(items.sorted())")
        let verify = try lab.run(["report", "verify", reportPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    @Test func everyPlatformToAnOCIArchiveCopiedOutBySkopeo() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [20_000], platforms: .multi, seed: 42)
        _ = try lab.push(layout, Self.repository, tag: "2")
        let archive = lab.home.file("all.oci.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):2", "--all-platforms", "--format", "oci-archive", "--output", archive,
             "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try archiveBlobsMatchTheirNames(archive) == [])
        let raw = try Shell.run(["skopeo", "inspect", "--raw", "oci-archive:\(archive)"])
        #expect(raw.status == 0, "\(raw.stderr)")
        #expect("sha256:" + (try Shell.sha256Hex(Data(raw.stdout.utf8))) == layout.topDigest)
        let copyPath = lab.home.file("copied")
        let copy = try Shell.run(["skopeo", "copy", "--all", "oci-archive:\(archive)", "oci:\(copyPath):2"])
        #expect(copy.status == 0, "\(copy.stderr)")
        for digest in Self.reachable(layout) {
            #expect(FileManager.default.fileExists(atPath: "\(copyPath)/blobs/sha256/\(digest.dropFirst("sha256:".count))"), "\(digest)")
        }
        // The same archive on stdout, sent once complete: the same bytes.
        let streamed = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):2", "--all-platforms", "--format", "oci-archive", "--output", "-",
             "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let written = try #require(FileManager.default.contents(atPath: archive))
        #expect(streamed.stdoutData == written)
        #expect(streamed.stderr.contains(layout.topDigest), "\(streamed.stderr)")
    }

    @Test func paranoidHashesEveryLayerOfEveryPlatformOnEveryVantage() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        let layout = try lab.makeImage(layers: [20_000, 2_000], platforms: .multi, seed: 46)
        _ = try lab.push(layout, Self.repository, tag: "p")
        let reportPath = lab.home.file("r.json")
        let output = lab.home.file("all.oci.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):p", "--all-platforms", "--format", "oci-archive", "--policy", "paranoid",
             "--output", output, "--report", reportPath, "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try archiveBlobsMatchTheirNames(output) == [])
        let report = try ReportFile.read(reportPath)
        let platforms = try #require(report.agreed?.image?.platforms)
        // Every entry's layers (the attestations' in-toto layers too) hashed as received on each vantage.
        #expect(platforms.count == 4)
        for entry in platforms {
            #expect(entry.layersReceived == entry.layers.map(\.digest), "\(entry.platform)")
        }
        let layerItems = report.comparisons.filter { $0.item.hasSuffix(" bytes") && $0.item.contains(" layer ") }
        #expect(layerItems.count == platforms.reduce(0) { $0 + $1.layers.count })
        #expect(layerItems.allSatisfy { $0.agree && $0.values.count == 3 })
        try ReportSchema.validate(reportPath: reportPath)
        let verify = try lab.run(["report", "verify", reportPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func aBundleOfTwoWholeIndexesIntoOneLayout() async throws {
        let lab = try await Lab()
        let first = try lab.makeImage(layers: [20_000, 3_000], platforms: .multi, seed: 44)
        let second = try lab.makeImage(layers: [10_000], platforms: .index([.linuxAMD64, .linuxARM64v8], attestations: false), seed: 45)
        _ = try lab.push(first, "all/web", tag: "1")
        _ = try lab.push(second, "all/db", tag: "2")
        let names = ["\(lab.registry.host)/all/web:1", "\(lab.registry.host)/all/db:2"]
        let imagesFile = lab.home.file("images.txt")
        try (names.joined(separator: "\n") + "\n").write(toFile: imagesFile, atomically: true, encoding: .utf8)
        let output = lab.home.file("bundle")
        let result = try lab.run(
            ["pull", "--images-from", imagesFile, "--all-platforms", "--format", "oci", "--output", output, "--vantages", try lab.vantagesFile()]
                + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        let umoci = try Shell.run(["umoci", "ls", "--layout", output])
        #expect(Set(umoci.stdout.split(separator: "\n").map(String.init)) == Set(names), "\(umoci.stdout)\(umoci.stderr)")
        for (name, layout) in zip(names, [first, second]) {
            let raw = try Shell.run(["skopeo", "inspect", "--raw", "oci:\(output):\(name)"])
            #expect("sha256:" + (try Shell.sha256Hex(Data(raw.stdout.utf8))) == layout.topDigest, "\(name): \(raw.stderr)")
            let copy = try Shell.run(["skopeo", "copy", "--all", "oci:\(output):\(name)", "oci:\(lab.home.file("copy")):x"])
            #expect(copy.status == 0, "\(name): \(copy.stderr)")
        }
        // A platform on a line contradicts --all-platforms: refused with the line, before any vantage is asked.
        try (names[0] + " linux/arm64\n").write(toFile: imagesFile, atomically: true, encoding: .utf8)
        let refused = try lab.run(
            ["pull", "--images-from", imagesFile, "--all-platforms", "--format", "oci", "--output", lab.home.file("other"), "--vantages", try lab.vantagesFile()]
                + lab.registryOptions())
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("images.txt:1"), "\(refused.stderr)")
    }

    @Test func oneRouteServingAnotherManifestForOneOtherPlatformIsRefused() async throws {
        let lab = try await Lab()
        let good = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 43)
        let evil = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 669)
        _ = try lab.push(good, Self.repository, tag: "3")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        // linux/arm64 is not this machine's platform: a one-platform pull would never look at it.
        let target = try #require(good.manifestDigests["linux/arm64/v8"])
        let evilARM = try #require(evil.manifestDigests["linux/arm64/v8"])
        let replacement = lab.home.file("evil-arm64.json")
        try evil.blob(evilARM).write(to: URL(fileURLWithPath: replacement))
        let mitm = try await MitmProxy(attack: .init(.swapPlatformManifest, replacementPath: replacement, targetDigest: target, registry: lab.registry.host))
        defer { mitm.stop() }
        let vantages = try lab.vantagesFile(extra: "\n[[vantage]]\nname = \"hostile-proxy\"\nkind = \"proxy\"\nproxy = \"\(mitm.url)\"\n")
        let output = lab.home.file("layout")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):3", "--all-platforms", "--format", "oci", "--output", output,
             "--vantages", vantages, "--report", reportPath] + lab.registryOptions())
        #expect(result.status == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        #expect(result.stderr.contains("hostile-proxy"), "\(result.stderr)")
        #expect(mitm.rewrites().contains { $0.contains("/manifests/\(target)") }, "\(mitm.rewrites())")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        let hostile = try #require(report.vantages.first { $0.name == "hostile-proxy" })
        #expect(hostile.status == .tampered)
        #expect(hostile.error?.contains(target) == true, "\(hostile.error ?? "no error text")")
        #expect(report.vantages.filter { $0.name != "hostile-proxy" }.allSatisfy { $0.status == .ok })
        let verify = try lab.run(["report", "verify", reportPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func dockerArchiveIsRefusedBeforeAnyVantageIsAsked() async throws {
        let home = try TemporaryDirectory(prefix: "home")
        // Nothing listens on port 1: a run that reached the network would fail there (exit 3), not with 2.
        let vantages = home.file("vantages.toml")
        try "[[vantage]]\nname = \"direct\"\nkind = \"local\"\n".write(toFile: vantages, atomically: true, encoding: .utf8)
        let output = home.file("all.tar")
        for extra in [[], ["--format", "docker-archive"]] {
            let result = try ThreeTofuCLI.run(
                ["pull", "127.0.0.1:1/all/app:1", "--all-platforms", "--output", output, "--vantages", vantages, "--insecure-registry", "127.0.0.1:1"] + extra,
                home: home.path)
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("docker-archive holds one platform only"), "\(result.stderr)")
            #expect(result.stderr.contains("--format oci"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let withPlatform = try ThreeTofuCLI.run(
            ["pull", "127.0.0.1:1/all/app:1", "--all-platforms", "--platform", "linux/arm64", "--format", "oci", "--output", output, "--vantages", vantages],
            home: home.path)
        #expect(withPlatform.status == 2, "\(withPlatform.stderr)")
        #expect(withPlatform.stderr.contains("drop --platform"), "\(withPlatform.stderr)")
    }
}
