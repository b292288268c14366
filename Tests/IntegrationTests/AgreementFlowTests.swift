import Foundation
import Report
import Testing
import TestSupport

/// Policies, reports, resolve and `vantages check`, end to end against real servers.
@Suite("agreement flow", .serialized)
struct AgreementFlowTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func reportOfAnAgreeingPullValidatesAndDescribesTheRun() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [30_000, 2_000], platforms: .multi)
        _ = try lab.push(layout, "rep/app", tag: "1")
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(["pull", "\(lab.registry.host)/rep/app:1", "--output", output, "--report", reportPath, "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        try ReportSchema.validate(reportPath: reportPath)
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        #expect(report.subject.reference == "\(lab.registry.host)/rep/app:1")
        #expect(report.subject.platform == "linux/amd64")
        #expect(report.agreed?.image?.topDigest == layout.topDigest)
        #expect(report.agreed?.image?.platformManifestDigest == layout.manifestDigests["linux/amd64"])
        #expect(report.vantages.map(\.name) == ["direct", "http-proxy", "socks"])
        // Under "source" the agreed manifest fixes the config: no vantage fetches it while resolving
        // (the delivery fetches it once), so no config bytes are compared.
        #expect(report.vantages.allSatisfy { $0.status == .ok && $0.observed?.image?.configReceived == nil })
        #expect(report.vantages.map(\.route) == ["direct", lab.httpProxy.url, lab.socksProxy.url(h: true)])
        #expect(report.comparisons.allSatisfy { $0.agree && $0.values.count == 3 })
        let policyText = try Data(contentsOf: Self.repositoryRoot.appendingPathComponent("policies/strict.toml"))
        #expect(report.policy.name == "strict")
        #expect(report.policy.sha256 == (try Shell.sha256Hex(policyText)))
        let written = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(report.artifact?.sha256 == (try Shell.sha256Hex(written)))
        #expect(report.artifact?.format == "docker-archive")
    }

    @Test func resolvePrintsThePinnedReferenceAndDownloadsNoLayer() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [500_000])
        _ = try lab.push(layout, "pin/app", tag: "stable")
        let result = try lab.run(["resolve", "\(lab.registry.host)/pin/app:stable", "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(lab.registry.host)/pin/app:stable@\(layout.topDigest)\n")
        let layer = layout.layerDigests[0].replacingOccurrences(of: "sha256:", with: "")
        #expect(!FileManager.default.fileExists(atPath: lab.home.file("cache/blobs/sha256/\(layer)")))
    }

    @Test func paranoidHashesEveryBlobOnEveryVantageAndRefusesPlainHTTP() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        let layout = try lab.makeImage(layers: [40_000, 9_000])
        _ = try lab.push(layout, "par/app", tag: "1")
        let reportPath = lab.home.file("r.json")
        let output = lab.home.file("o.tar")
        let vantages = try lab.vantagesFile()
        let result = try lab.run(["pull", "\(lab.registry.host)/par/app:1", "--policy", "paranoid", "--output", output, "--report", reportPath, "--vantages", vantages] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.policy.name == "paranoid")
        let blobItems = report.comparisons.filter { $0.item.hasSuffix(" bytes") }
        #expect(blobItems.map(\.item).sorted() == ["config bytes", "layer 1 bytes", "layer 2 bytes"])
        #expect(blobItems.allSatisfy { $0.agree && $0.values.count == 3 })
        #expect(report.agreed?.image?.layersReceived == layout.layerDigests)

        // The same policy refuses a registry spoken to over plain HTTP.
        let plain = try await Lab()
        _ = try plain.push(layout, "par/app", tag: "1")
        let refused = try plain.run(["pull", "\(plain.registry.host)/par/app:1", "--policy", "paranoid", "--output", plain.home.file("o.tar"), "--vantages", try plain.vantagesFile()] + plain.registryOptions())
        #expect(refused.status == 3, "\(refused.stderr)")
        #expect(refused.stderr.contains("plain-HTTP"))
        #expect(!FileManager.default.fileExists(atPath: plain.home.file("o.tar")))
    }

    @Test func aPolicyFileIsUsedAndAMalformedOneIsAClearError() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [1_000])
        _ = try lab.push(layout, "pol/app", tag: "1")
        let policy = lab.home.file("two.toml")
        try """
            name = "two-of-two"
            description = "Two vantages suffice."
            min_agreeing = 2
            max_unavailable = 0
            blob_verification = "source"
            require_route_kinds = []
            allow_insecure_registries = true
            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let two = try lab.vantagesFile(extra: "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[[vantage]]\nname = \"b\"\nkind = \"proxy\"\nproxy = \"\(lab.httpProxy.url)\"\n", includeStandard: false)
        let ok = try lab.run(["pull", "\(lab.registry.host)/pol/app:1", "--policy", policy, "--output", lab.home.file("o.tar"), "--vantages", two] + lab.registryOptions())
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stderr.contains("two-of-two"))

        try "name = \"x\"\nmin_agreeing = 0\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let bad = try lab.run(["pull", "\(lab.registry.host)/pol/app:1", "--policy", policy, "--output", lab.home.file("p.tar"), "--vantages", two] + lab.registryOptions())
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(policy))
        let unknown = try lab.run(["pull", "\(lab.registry.host)/pol/app:1", "--policy", "lenient", "--output", lab.home.file("p.tar"), "--vantages", two] + lab.registryOptions())
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("strict, tolerant, paranoid"))
    }

    @Test func vantagesCheckSaysWhichVantageWorksAndWhy() async throws {
        let lab = try await Lab()
        let deadPort = try FreePort.pick()
        let vantages = try lab.vantagesFile(extra: "\n[[vantage]]\nname = \"dead-proxy\"\nkind = \"proxy\"\nproxy = \"http://127.0.0.1:\(deadPort)\"\n")
        let result = try lab.run(["vantages", "check", "--vantages", vantages, "--registry", lab.registry.host, "--insecure-registry", lab.registry.host])
        #expect(result.status == 3, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for name in ["direct", "http-proxy", "socks"] {
            #expect(lines.contains { $0.contains(name) && $0.contains("ok") && $0.contains("HTTP 200") }, "\(result.stdout)")
        }
        #expect(lines.contains { $0.contains("dead-proxy") && $0.contains("FAILED") && $0.lowercased().contains("proxy") }, "\(result.stdout)")
        #expect(result.stderr.contains("dead-proxy"))
    }
}
