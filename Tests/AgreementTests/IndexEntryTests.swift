import Agreement
import Testing

private func entry(
    _ platform: String, manifest: String, config: String = "sha256:c0", layers: [String] = ["sha256:l1"], attestation: Bool = false,
    configReceived: String? = "sha256:c0", layersReceived: [String]? = nil
) -> ObservedImage.IndexEntry {
    ObservedImage.IndexEntry(
        platform: platform, attestation: attestation, manifestDigest: manifest, mediaType: "application/vnd.oci.image.manifest.v1+json",
        configDigest: config, layers: layers.map { .init(digest: $0, size: 10) }, configReceived: configReceived, layersReceived: layersReceived)
}

private func index(_ entries: [ObservedImage.IndexEntry]) -> ObservedImage {
    ObservedImage(
        topDigest: "sha256:index", topMediaType: "application/vnd.oci.image.index.v1+json", platformManifestDigest: nil, configDigest: "", layers: [],
        platforms: entries)
}

private let good = [
    entry("linux/amd64", manifest: "sha256:m1"),
    entry("linux/arm64/v8", manifest: "sha256:m2", config: "sha256:c2", configReceived: "sha256:c2"),
    entry("unknown/unknown", manifest: "sha256:a1", config: "sha256:ac", layers: ["sha256:intoto"], attestation: true, configReceived: "sha256:ac"),
]

private let strict = Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0)

private func decide(_ other: ObservedImage) -> Decision<ObservedImage> {
    let observations = [("a", index(good)), ("b", index(good)), ("c", other)].map { name, image in
        Observation(vantage: name, kind: "local", route: "direct", outcome: .observed(image))
    }
    return Agreement.decide(observations, policy: strict)
}

/// `--all-platforms`: every entry of the index is compared, so a difference in any one platform,
/// attestation included, is dissent.
@Suite struct IndexEntryTests {
    @Test func everyEntryIsComparedAndTheSameIndexAgrees() {
        let decision = decide(index(good))
        #expect(decision.verdict == .agree)
        let items = decision.comparisons.map(\.item)
        #expect(items.contains("index entries"))
        #expect(items.contains("entry 2 manifest"))
        #expect(items.contains("entry 3 layer 1"))
        #expect(items.contains("entry 2 config bytes"))
        #expect(decision.comparisons.first { $0.item == "entry 3 platform" }?.values["a"] == "unknown/unknown (attestation)")
        // The one-platform items are not compared: there is no one platform.
        #expect(!items.contains("platform manifest"))
    }

    struct Dissent: Sendable, CustomTestStringConvertible {
        var entries: [ObservedImage.IndexEntry]
        var item: String
        var testDescription: String { item }
    }

    @Test(arguments: [
        Dissent(entries: [good[0], entry("linux/arm64/v8", manifest: "sha256:evil", config: "sha256:c2", configReceived: "sha256:c2"), good[2]], item: "entry 2 manifest"),
        Dissent(entries: [good[0], good[1], entry("unknown/unknown", manifest: "sha256:a1", config: "sha256:ac", layers: ["sha256:forged"], attestation: true, configReceived: "sha256:ac")], item: "entry 3 layer 1"),
        Dissent(entries: [good[0], entry("linux/arm64/v8", manifest: "sha256:m2", config: "sha256:c2", configReceived: "sha256:other"), good[2]], item: "entry 2 config bytes"),
        Dissent(entries: [good[0], good[1]], item: "index entries"),
        Dissent(entries: [good[0], good[2], good[1]], item: "entry 2 platform"),
    ])
    func aDifferenceInAnyOneEntryIsDissent(_ dissent: Dissent) {
        let decision = decide(index(dissent.entries))
        #expect(decision.verdict == .disagree)
        #expect(decision.dissenters == ["c"])
        #expect(decision.comparisons.contains { $0.item == dissent.item && !$0.agree }, "\(decision.comparisons.filter { !$0.agree }.map(\.item))")
    }

    @Test func layersHashedByEveryVantageAreCompared() {
        var hashed = good
        hashed[0].layersReceived = ["sha256:l1"]
        var forged = good
        forged[0].layersReceived = ["sha256:wrong"]
        let observations = [("a", index(hashed)), ("b", index(hashed)), ("c", index(forged))].map { name, image in
            Observation(vantage: name, kind: "local", route: "direct", outcome: .observed(image))
        }
        let decision = Agreement.decide(observations, policy: strict)
        #expect(decision.verdict == .disagree)
        #expect(decision.comparisons.contains { $0.item == "entry 1 layer 1 bytes" && !$0.agree })
    }
}
