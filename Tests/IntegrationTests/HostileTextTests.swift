import Foundation
import Testing
import TestSupport

/// Text and JSON from the network that mean one thing to 3tofu and another to the reader: escape
/// sequences aimed at the terminal, and manifest keys that differ only by case.
@Suite("hostile text", .serialized)
struct HostileTextTests {
    /// Text from the formula API with escape sequences (clear the screen, a green fake verdict)
    /// reaches stderr escaped: no ESC or CSI byte is printed, and the text is still shown.
    @Test func escapeSequencesFromTheNetworkNeverReachTheTerminal() async throws {
        let fixture = try await BottleFixture()
        let hostile = "1.0\u{1B}[2J\u{1B}[H\u{1B}[1;32mverdict: AGREE\u{9B}0m"
        let document: [String: Any] = [
            "name": "evil", "versions": ["stable": hostile], "revision": 0,
            "bottle": ["stable": ["rebuild": 0, "files": ["x86_64_linux": ["sha256": String(repeating: "a", count: 64)]]]],
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: fixture.apiRoot + "/api/formula/evil.json"))
        let result = try fixture.lab.run([
            "bottle", "evil", "--tag", "x86_64_linux", "--output", fixture.lab.home.file("bottles"), "--formula-api", fixture.formulaAPI,
            "--registry", fixture.registryArgument, "--insecure-registry", fixture.lab.registry.host, "--vantages", try fixture.lab.vantagesFile(),
        ])
        #expect(result.status != 0)
        #expect(!result.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{9B}" }, "\(result.stderr.debugDescription)")
        #expect(result.stderr.contains(#"\u{1b}[2J"#), "the hostile text is shown, escaped: \(result.stderr)")
    }

    /// A registry serves a manifest with both "layers" (two layers) and "Layers" (one): Go's
    /// encoding/json, which the registry and skopeo use, reads one layer; Foundation reads two.
    /// 3tofu refuses it on every vantage and writes nothing.
    @Test func aManifestWithLayersAndLayersIsRefused() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [20_000, 10_000])
        _ = try lab.push(layout, "case/app", tag: "1")
        let raw = try Shell.runCapturing(["skopeo", "inspect", "--raw"] + (try lab.registry.skopeoOptions(prefix: "")) + ["docker://\(lab.registry.host)/case/app:1"])
        #expect(raw.status == 0, "\(raw.stderr)")
        var manifest = try #require(try JSONSerialization.jsonObject(with: raw.stdoutData) as? [String: Any])
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        manifest["Layers"] = [layers[0]]
        let bodyPath = lab.home.file("case-manifest.json")
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: URL(fileURLWithPath: bodyPath))
        let put = try Shell.run([
            "curl", "-sS", "-f", "-X", "PUT", "-H", "Content-Type: application/vnd.oci.image.manifest.v1+json", "--data-binary", "@\(bodyPath)",
            "http://\(lab.registry.host)/v2/case/app/manifests/crafted",
        ])
        #expect(put.status == 0, "the registry (Go) accepts it: \(put.stderr)")
        let skopeo = try Shell.run(["skopeo", "inspect", "--raw"] + (try lab.registry.skopeoOptions(prefix: "")) + ["docker://\(lab.registry.host)/case/app:crafted"])
        #expect(skopeo.status == 0, "\(skopeo.stderr)")

        let output = lab.home.file("crafted.tar")
        let result = try lab.run(["pull", "\(lab.registry.host)/case/app:crafted", "--output", output, "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status != 0, "\(result.stderr)")
        #expect(result.stderr.contains("differ only by case"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
