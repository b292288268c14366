import Foundation
import Testing
import TestSupport

/// `--json`: one document on stdout for every outcome (exit 0, 1, 2, 3) of pull, resolve, fetch,
/// bottle and bundles, each valid against schemas/result-v1.schema.json, with the stderr table
/// unchanged. Against the real lab registry, proxies, mitmproxy and nginx.
@Suite("--json results", .serialized)
struct JSONResultTests {
    /// The one document on stdout, checked against the schema and its exit code.
    static func document(_ result: ThreeTofuCLI.Result, command: String, exitCode: Int32) throws -> [String: Any] {
        #expect(result.status == exitCode, "\(result.stderr)")
        try ReportSchema.validateResult(result.stdout)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "stdout: \(result.stdout)")
        #expect(object["command"] as? String == command)
        #expect(object["exitCode"] as? Int == Int(exitCode))
        return object
    }

    static func vantages(_ document: [String: Any]) -> [String: [String: Any]] {
        let list = document["vantages"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Exit 0: a Docker manifest written as OCI gives both digests; the table is still on stderr.
    @Test func agreeDockerManifestAsOCIGivesBothDigests() async throws {
        let lab = try await Lab()
        defer { lab.stop() }
        let layout = try lab.makeImage(layers: [30_000], mediaTypes: .docker, seed: 21)
        _ = try lab.push(layout, "json/docker", tag: "1")
        let output = lab.home.file("layout")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/json/docker:1", "--format", "oci", "--output", output, "--vantages", try lab.vantagesFile(), "--json"]
                + lab.registryOptions())
        let document = try Self.document(result, command: "pull", exitCode: 0)
        #expect(document["verdict"] as? String == "agree")
        #expect(document["digest"] as? String == layout.topDigest, "the command's summary is kept")
        let written = try #require((document["written"] as? [[String: Any]])?.first)
        #expect(written["path"] as? String == output)
        #expect(written["format"] as? String == "oci")
        let converted = try #require(written["convertedFrom"] as? String, "\(written)")
        let inOutput = try #require(written["manifestDigest"] as? String)
        #expect(converted == layout.topDigest, "the verified Docker manifest")
        #expect(inOutput != converted, "the OCI conversion's digest")
        #expect(document["manifestWritten"] as? String == inOutput && document["convertedFrom"] as? String == converted)
        // What the layout holds is that conversion, as umoci/skopeo read it.
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + "/index.json"))) as? [String: Any]
        let listed = (index?["manifests"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        #expect(listed.contains(inOutput), "\(listed)")
        #expect(Self.vantages(document).values.allSatisfy { $0["status"] as? String == "ok" && $0["error"] is NSNull })
        #expect(Self.vantages(document)["socks"]?["observed"].flatMap { ($0 as? [String: String])?["manifest"] } == layout.topDigest)
        #expect(result.stderr.contains("verdict: AGREE") && result.stderr.contains("vantage"), "the table is unchanged: \(result.stderr)")
    }

    /// Exit 1: a hostile proxy serves another index; the dissenter is named, nothing written.
    @Test func disagreeNamesTheDissenter() async throws {
        let lab = try await Lab()
        defer { lab.stop() }
        let good = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 22)
        let evil = try lab.makeImage(layers: [30_000], platforms: .multi, seed: 622)
        _ = try lab.push(good, "json/attack", tag: "1")
        _ = try lab.push(evil, "json/attack", tag: "evil")
        let mitm = try await MitmProxy(attack: .init(.swapManifest, replacementTag: "evil", targetTag: "1", registry: lab.registry.host))
        defer { mitm.stop() }
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("hostile-proxy", proxy: mitm.url), only: [.direct, .socks])
        let output = lab.home.file("app.tar")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/json/attack:1", "--platform", "linux/amd64", "--output", output, "--vantages", vantages, "--json"]
                + lab.registryOptions())
        let document = try Self.document(result, command: "pull", exitCode: 1)
        #expect(document["verdict"] as? String == "disagree")
        #expect((document["written"] as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(((document["subjects"] as? [[String: Any]])?.first?["dissenters"] as? [String])?.contains("hostile-proxy") == true, "\(document)")
        let hostile = try #require(Self.vantages(document)["hostile-proxy"])
        #expect((hostile["observed"] as? [String: String])?["manifest"] == evil.topDigest)
        #expect((document["error"] as? String)?.contains("refused") == true)
        #expect(result.stderr.contains("verdict: DISAGREE"))
    }

    /// Exit 2: bad input before any vantage ran, a command line that does not parse, a bad URL, a
    /// bad bottle tag: still one document, with the error and no subject.
    @Test func badInputStillGivesTheDocument() async throws {
        let lab = try await Lab()
        defer { lab.stop() }
        let cases: [([String], String, String)] = [
            (["pull", "\(lab.registry.host)/x:1", "--format", "zip", "--output", lab.home.file("o"), "--json"], "pull", "unknown --format 'zip'"),
            (["pull", "\(lab.registry.host)/x:1", "--json"], "pull", "--output"),
            (["resolve", "not a reference!", "--json"], "resolve", "not a reference"),
            (["fetch", "ftp://example.invalid/f", "--output", lab.home.file("f"), "--json"], "fetch", "not an http:// or https:// URL"),
            (["bottle", "wget", "--tag", "no/tag", "--output", lab.home.file("b"), "--json"], "bottle", "is not a bottle tag"),
            (["pull", "--images-from", lab.home.file("missing.txt"), "--output", lab.home.file("bundle"), "--json"], "bundle", "missing.txt"),
        ]
        for (arguments, command, says) in cases {
            let result = try lab.run(arguments)
            let document = try Self.document(result, command: command, exitCode: 2)
            #expect(document["verdict"] is NSNull, "\(arguments)")
            #expect((document["subjects"] as? [Any])?.isEmpty == true)
            #expect((document["error"] as? String)?.contains(says) == true, "\(arguments): \(document["error"] ?? "nil")")
            #expect(result.stderr.contains("3tofu: error:") || result.stderr.contains("Error:"), "stderr still says it: \(result.stderr)")
        }
    }

    /// Exit 3: one route cannot be reached (a proxy on a closed port) under strict; its error is
    /// in the document next to the answers of the others.
    @Test func insufficientGivesEachVantagesError() async throws {
        let lab = try await Lab()
        defer { lab.stop() }
        let layout = try lab.makeImage(layers: [20_000], seed: 23)
        _ = try lab.push(layout, "json/missing", tag: "1")
        let closed = try FreePort.pick()
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("dead-proxy", proxy: "http://127.0.0.1:\(closed)"))
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/json/missing:1", "--output", lab.home.file("o.tar"), "--vantages", vantages, "--json"] + lab.registryOptions())
        let document = try Self.document(result, command: "pull", exitCode: 3)
        #expect(document["verdict"] as? String == "insufficient")
        let found = Self.vantages(document)
        #expect(Set(found.keys) == ["direct", "http-proxy", "socks", "dead-proxy"])
        #expect(found["dead-proxy"]?["status"] as? String == "error")
        #expect(((found["dead-proxy"]?["error"] as? String)?.isEmpty) == false, "\(found)")
        #expect(found["direct"]?["status"] as? String == "ok" && found["direct"]?["error"] is NSNull)
        #expect((document["written"] as? [Any])?.isEmpty == true)
        #expect(!FileManager.default.fileExists(atPath: lab.home.file("o.tar")))
    }

    /// resolve, fetch, bundle: exit 0 documents with their subjects.
    @Test func resolveFetchAndBundleGiveTheDocument() async throws {
        let site = try await FetchTests.Site()
        defer { site.stop() }
        let lab = site.lab
        let layout = try lab.makeImage(layers: [20_000], seed: 24)
        _ = try lab.push(layout, "json/other", tag: "1")
        let vantages = try lab.vantagesFile()

        let resolve = try Self.document(
            try lab.run(["resolve", "\(lab.registry.host)/json/other:1", "--vantages", vantages, "--json"] + lab.registryOptions()), command: "resolve", exitCode: 0)
        #expect(resolve["digest"] as? String == layout.topDigest)
        #expect((resolve["written"] as? [Any])?.isEmpty == true, "resolve writes nothing")

        let file = lab.home.file("tool.tar.gz")
        let fetch = try Self.document(try lab.run(["fetch", site.fileURL, "--output", file, "--vantages", vantages, "--json"]), command: "fetch", exitCode: 0)
        #expect((fetch["written"] as? [[String: Any]])?.first?["sha256"] as? String == site.sha256)
        #expect(((fetch["subjects"] as? [[String: Any]])?.first?["kind"] as? String) == "file")

        let list = lab.home.file("images.txt")
        try "\(lab.registry.host)/json/other:1\n\(lab.registry.host)/json/other:absent\n".write(toFile: list, atomically: true, encoding: .utf8)
        let bundle = try Self.document(
            try lab.run(["pull", "--images-from", list, "--format", "oci", "--output", lab.home.file("bundle"), "--vantages", vantages, "--json"] + lab.registryOptions()),
            command: "bundle", exitCode: 2)
        let verdicts = (bundle["subjects"] as? [[String: Any]])?.map { $0["verdict"] as? String }
        #expect(verdicts == ["agree", "insufficient"], "\(bundle)")
        #expect(bundle["verdict"] as? String == "insufficient", "a tag no vantage finds is bad input (exit 2), verdict insufficient")
        #expect(bundle["vantages"] == nil, "two subjects: their vantages are in subjects")
    }

    /// bottle: exit 0 with the bottle written.
    @Test func bottleGivesTheDocument() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        try fixture.publish("hello", version: "1.2.3")
        let output = fixture.lab.home.file("bottles")
        let result = try fixture.bottle(["hello"], tag: "arm64_sonoma", output: output, vantages: try fixture.lab.vantagesFile(), ["--json"])
        let document = try Self.document(result, command: "bottle", exitCode: 0)
        let written = try #require((document["written"] as? [[String: Any]])?.first)
        #expect(written["path"] as? String == output + "/hello--1.2.3.arm64_sonoma.bottle.tar.gz")
        #expect(written["format"] as? String == "bottle")
        #expect(((document["subjects"] as? [[String: Any]])?.first?["kind"] as? String) == "bottle")
    }
}
