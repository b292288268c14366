import Foundation
import Report
import Testing
import TestSupport

/// `3tofu bottle` against a real registry holding Homebrew-shaped indexes and a formula API served
/// by nginx, over three routes (direct, tinyproxy, microsocks), with mitmproxy as the attacker.
@Suite("homebrew bottles", .serialized)
struct BottleTests {
    @Test func threeRoutesAgreeAndTheBottleGetsHomebrewsName() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        let hello = try fixture.publish("hello", version: "1.2.3")
        let greet = try fixture.publish("greet", version: "2.0", revision: 1, rebuild: 2, tags: ["arm64_sonoma", "x86_64_linux"])
        #expect(greet.imageTag == "2.0_1-2")
        let vantages = try fixture.lab.vantagesFile()
        let output = fixture.lab.home.file("bottles")
        let reportPath = fixture.lab.home.file("report.json")

        let result = try fixture.bottle(["hello"], tag: "arm64_sonoma", output: output, vantages: vantages, ["--report", reportPath])
        #expect(result.status == 0, "\(result.stderr)")
        let file = output + "/hello--1.2.3.arm64_sonoma.bottle.tar.gz"
        let apiHex = try #require(hello.tags["arm64_sonoma"]?.layer).replacingOccurrences(of: "sha256:", with: "")
        #expect(try sha256sum(file) == apiHex)
        #expect(result.stdout.contains("brew install \(file)"), "\(result.stdout)")
        #expect(try Shell.check(["tar", "-tzf", file]).contains("hello/1.2.3/bin/hello"))
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        #expect(report.subject.kind == .bottle)
        #expect(report.artifact?.sha256 == apiHex)
        #expect(report.vantages.count == 3)
        #expect(report.vantages.allSatisfy { $0.status == .ok && $0.observed?.bottle?.indexDigest == hello.index })
        #expect(report.comparisons.contains { $0.item == "formula API sha256" && $0.agree })
        try ReportSchema.validate(reportPath: reportPath)
        // Every parameter of the policy is recorded, so `report verify` recomputes the verdict under it.
        #expect(report.policy.parameters != nil, "\(report.policy)")
        let verify = try fixture.lab.run(["report", "verify", reportPath, "--artifact", file])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("under the recorded policy 'strict'") && !verify.stdout.contains("older 3tofu"), "\(verify.stdout)")
        #expect(fixture.lab.httpProxy.requests().contains { $0.contains("/api/formula/hello.json") }, "the HTTP-proxy route read the formula API itself")

        // A Brewfile: a set verified in one run, with revision and rebuild in the names, one report per formula.
        let brewfile = fixture.lab.home.file("Brewfile")
        try "tap \"homebrew/core\"\nbrew \"hello\"\nbrew \"greet\" # rebuilt\ncask \"firefox\"\n".write(toFile: brewfile, atomically: true, encoding: .utf8)
        let set = try fixture.bottle([], tag: "arm64_sonoma", output: output, vantages: vantages, ["--brewfile", brewfile, "--report", reportPath])
        #expect(set.status == 0, "\(set.stderr)")
        let greetFile = output + "/greet--2.0_1.arm64_sonoma.bottle.2.tar.gz"
        #expect(try sha256sum(greetFile) == greet.tags["arm64_sonoma"]?.layer.replacingOccurrences(of: "sha256:", with: ""))
        #expect(try ReportFile.read(fixture.lab.home.file("report.greet.json")).verdict == .agree)
        #expect(try ReportFile.read(fixture.lab.home.file("report.hello.json")).verdict == .agree)
    }

    @Test func anOlderVersionSkipsTheFormulaAPICheckAndSaysSo() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        let old = try fixture.publish("hello", version: "1.2.2", seed: "old", writeAPI: false)
        try fixture.publish("hello", version: "1.2.3")
        let output = fixture.lab.home.file("bottles")
        let reportPath = fixture.lab.home.file("report.json")
        let key = fixture.lab.home.file("key")
        let attestation = fixture.lab.home.file("bottle.intoto.json")
        #expect(try fixture.lab.run(["keygen", "--output", key]).status == 0)
        let result = try fixture.bottle(
            ["hello@1.2.2"], tag: "sonoma", output: output, vantages: try fixture.lab.vantagesFile(),
            ["--report", reportPath, "--sign-key", key, "--attestation", attestation])
        #expect(result.status == 0, "\(result.stderr)")
        let file = output + "/hello--1.2.2.sonoma.bottle.tar.gz"
        let bottleSHA256 = try #require(old.tags["sonoma"]?.layer.replacingOccurrences(of: "sha256:", with: ""))
        #expect(try sha256sum(file) == bottleSHA256)
        // --attestation is honoured too (issue 17, bug 1): an in-toto statement about the bottle.
        let statement = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: attestation))) as? [String: Any], "no attestation")
        #expect(statement["_type"] as? String == InTotoStatement.statementType)
        let subjects = statement["subject"] as? [[String: Any]] ?? []
        #expect(subjects.contains { ($0["digest"] as? [String: String])?["sha256"] == bottleSHA256 }, "\(statement)")
        #expect(result.stderr.contains("check was skipped"), "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.reason.contains("formula API check was skipped"))
        #expect(report.agreed?.bottle?.apiSHA256 == nil)
        #expect(report.agreed?.bottle?.apiVersion == "1.2.3")
        // Signed, with its policy's parameters; the note after the reason does not stop it verifying.
        #expect(report.signature?.algorithm == "ed25519")
        let verify = try fixture.lab.run(["report", "verify", reportPath, "--key", key + ".pub", "--artifact", file])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("under the recorded policy 'strict'"), "\(verify.stdout)")
        #expect(verify.stdout.contains("formula API check was skipped"), "the note is shown: \(verify.stdout)")
        #expect(!verify.stdout.contains("older 3tofu"), "\(verify.stdout)")
    }

    @Test func aRouteWhoseFormulaAPIAnswersAnotherSHA256IsRefused() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        let hello = try fixture.publish("hello", version: "1.2.3")
        // The attacker's formula API document names other bytes for arm64_sonoma.
        let evilHex = String(repeating: "e", count: 64)
        let honest = try String(contentsOfFile: fixture.apiRoot + "/api/formula/hello.json", encoding: .utf8)
        let realHex = try #require(hello.tags["arm64_sonoma"]?.layer.replacingOccurrences(of: "sha256:", with: ""))
        let evilPath = fixture.lab.home.file("evil-hello.json")
        try honest.replacingOccurrences(of: realHex, with: evilHex).write(toFile: evilPath, atomically: true, encoding: .utf8)
        let mitm = try await MitmProxy(attack: .init(.swapURL, replacementPath: evilPath, targetPath: "/api/formula/hello.json"))
        defer { mitm.stop() }
        let vantages = try fixture.lab.vantagesFile(extra: proxyVantageTOML("hostile", proxy: mitm.url), only: [.direct, .socks])
        let output = fixture.lab.home.file("bottles")
        let reportPath = fixture.lab.home.file("report.json")

        let result = try fixture.bottle(["hello"], tag: "arm64_sonoma", output: output, vantages: vantages, ["--report", reportPath])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).isEmpty)
        #expect(result.stderr.contains("hostile"), "\(result.stderr)")
        #expect(mitm.rewrites().contains { $0.contains("/api/formula/hello.json") }, "\(mitm.rewrites())")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        #expect(report.artifact == nil)
        let hostile = try #require(report.vantages.first { $0.name == "hostile" })
        #expect(hostile.status == .tampered)
        #expect(hostile.observed?.bottle?.apiSHA256 == "sha256:" + evilHex)
        #expect(report.vantages.filter { $0.name != "hostile" }.allSatisfy { $0.status == .ok })
    }

    @Test func aRouteServedAnotherIndexIsRefused() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        let hello = try fixture.publish("hello", version: "1.2.3")
        let evil = try fixture.publish("hello", version: "1.2.3", seed: "evil", writeAPI: false, pushTag: "evil")
        try #require(evil.index != hello.index)
        let mitm = try await MitmProxy(attack: .init(.swapManifest, replacementTag: "evil", targetTag: "1.2.3", registry: fixture.lab.registry.host))
        defer { mitm.stop() }
        let vantages = try fixture.lab.vantagesFile(extra: proxyVantageTOML("hostile", proxy: mitm.url), only: [.direct, .httpProxy])
        let output = fixture.lab.home.file("bottles")
        let reportPath = fixture.lab.home.file("report.json")

        let result = try fixture.bottle(["hello"], tag: "x86_64_linux", output: output, vantages: vantages, ["--report", reportPath])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).isEmpty)
        let report = try ReportFile.read(reportPath)
        let hostile = try #require(report.vantages.first { $0.name == "hostile" })
        #expect(hostile.observed?.bottle?.indexDigest == evil.index)
        #expect(report.comparisons.first { $0.item == "index" }?.agree == false)
        #expect(report.comparisons.first { $0.item == "index" }?.values["direct"] == hello.index)
    }

    @Test func anIndexWhoseAnnotationContradictsItsLayerIsRefused() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        let hello = try fixture.publish("hello", version: "1.2.3", badAnnotation: "arm64_sonoma")
        let output = fixture.lab.home.file("bottles")
        let reportPath = fixture.lab.home.file("report.json")
        let result = try fixture.bottle(["hello"], tag: "arm64_sonoma", output: output, vantages: try fixture.lab.vantagesFile(), ["--report", reportPath])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("sh.brew.bottle.digest says \(try #require(hello.tags["arm64_sonoma"]?.annotation))"), "\(result.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []).isEmpty)
        // Every vantage is refused and keeps what it saw; such a report verifies as it is.
        let report = try ReportFile.read(reportPath)
        #expect(report.vantages.allSatisfy { $0.status == .tampered && $0.observed?.bottle != nil }, "\(report.vantages)")
        let verify = try fixture.lab.run(["report", "verify", reportPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        // The same index is fine for a tag whose annotation is right.
        let other = try fixture.bottle(["hello"], tag: "sonoma", output: output, vantages: try fixture.lab.vantagesFile())
        #expect(other.status == 0, "\(other.stderr)")
    }

    @Test func anUnknownTagIsBadInputListingTheTagsAvailable() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        // The registry's index has two tags; the formula API lists a third (ventura) the index lacks.
        try fixture.publish("hello", version: "1.2.3", tags: ["arm64_sonoma", "sonoma"])
        try fixture.publish("hello", version: "1.2.3", tags: ["arm64_sonoma", "sonoma", "ventura"], push: false)
        let vantages = try fixture.lab.vantagesFile()
        let output = fixture.lab.home.file("bottles")

        let unknown = try fixture.bottle(["hello"], tag: "arm64_tahoe", output: output, vantages: vantages)
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("arm64_sonoma, sonoma, ventura"), "\(unknown.stderr)")

        let missing = try fixture.bottle(["hello"], tag: "ventura", output: output, vantages: vantages)
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("has no bottle for tag 'ventura'") && missing.stderr.contains("arm64_sonoma, sonoma"), "\(missing.stderr)")

        let noFormula = try fixture.bottle(["nosuch"], tag: "sonoma", output: output, vantages: vantages)
        #expect(noFormula.status == 2, "\(noFormula.stderr)")
        #expect(noFormula.stderr.contains("knows no formula 'nosuch'"), "\(noFormula.stderr)")
    }
}
