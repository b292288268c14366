import Agreement
@testable import Commands
import Testing

/// The table printed on stderr after a run: only the dissenters' cells are red, and no column is
/// left out without saying so.
@Suite struct LiveTableTests {
    static let red = "\u{1B}[\(Terminal.Style.alarm.rawValue)m"

    static func digest(_ seed: Character) -> String { "sha256:" + String(repeating: seed, count: 64) }

    static func image(manifest: Character = "a", layers: [Character]) -> ObservedImage {
        ObservedImage(
            topDigest: digest(manifest), topMediaType: "application/vnd.oci.image.manifest.v1+json",
            platformManifestDigest: digest(manifest), configDigest: digest("c"),
            layers: layers.enumerated().map { .init(digest: digest($0.element), size: Int64(100 + $0.offset)) })
    }

    static let policy = Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0, sha256: String(repeating: "f", count: 64))

    static func render(_ seen: [(String, ObservedImage)]) -> String {
        let decision = Agreement.decide(seen.map { Observation(vantage: $0.0, kind: "local", route: "direct", outcome: .observed($0.1)) }, policy: policy)
        let rows = seen.map { SubjectOutcome.Row(name: $0.0, route: "direct", failure: nil) }
        return SubjectOutcome.render(rows, decision: decision, headline: SummaryTable.headlineItems).rendered(color: true)
    }

    static func line(_ name: String, in text: String) -> String {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map(String.init) ?? ""
    }

    @Test func onlyTheDissentersCellsAreRed() {
        let text = Self.render([
            ("home", Self.image(layers: ["1", "2"])), ("tor", Self.image(manifest: "9", layers: ["1", "2"])), ("vps", Self.image(layers: ["1", "2"])),
        ])
        let tor = Self.line("tor", in: text)
        #expect(tor.contains(Self.red + "sha256:999999999999…"), "the dissenter's manifest is red: \(tor)")
        for majority in ["home", "vps"] {
            let row = Self.line(majority, in: text)
            #expect(!row.isEmpty && !row.contains(Self.red), "\(majority) saw what most saw; nothing of its row is red: \(row)")
        }
    }

    @Test func columnsBeyondWhatFitsAreNamedNotDropped() {
        // "tor" saw other bytes for all eight layers: eight differing items plus the headline ones.
        let layers: [Character] = ["1", "2", "3", "4", "5", "6", "7", "8"]
        let text = Self.render([
            ("home", Self.image(layers: layers)), ("tor", Self.image(layers: ["a", "b", "c", "d", "e", "f", "0", "9"])), ("vps", Self.image(layers: layers)),
        ])
        let header = text.split(separator: "\n").first.map(String.init) ?? ""
        let shown = (1...8).filter { header.contains("layer \($0)") }
        #expect(shown.count == TableColumns.maximum, "as many layers as fit are shown: \(header)")
        #expect(!header.contains("manifest"), "dissent is shown before agreeing headline items")
        #expect(text.contains("more items not shown (layer 7: differs, layer 8: differs, "), "\(text)")
        #expect(text.contains("3tofu report show FILE"))
    }
}
