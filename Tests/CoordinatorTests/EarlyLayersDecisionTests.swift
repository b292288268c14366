import Agreement
import Testing

@testable import Coordinator

/// When the layers may start downloading before the verdict, and from which routes: a table of
/// answers in the order they came.
@Suite struct EarlyLayersDecisionTests {
    static func image(_ digest: String) -> ObservedImage {
        ObservedImage(
            topDigest: digest, topMediaType: "application/vnd.oci.image.manifest.v1+json", platformManifestDigest: nil, configDigest: "sha256:c",
            layers: [.init(digest: "sha256:l", size: 1)])
    }

    static func answer(_ name: String, local: Bool = false, _ digest: String = "sha256:good") -> EarlyLayers.Answer {
        EarlyLayers.Answer(name: name, isLocal: local, observed: image(digest))
    }

    static let table: [(answers: [EarlyLayers.Answer], sources: [String]?)] = [
        ([], nil),
        ([answer("home", local: true)], nil),
        // Two the same: this machine's route first, whichever answered first.
        ([answer("tor"), answer("home", local: true)], ["home", "tor"]),
        ([answer("home", local: true), answer("vps")], ["home", "vps"]),
        // Two that differ: nothing starts; the third that matches one of them does.
        ([answer("home", local: true), answer("tor", "sha256:evil")], nil),
        ([answer("home", local: true), answer("tor", "sha256:evil"), answer("vps")], ["home", "vps"]),
        ([answer("home", local: true), answer("tor", "sha256:evil"), answer("vps", "sha256:evil")], ["tor", "vps"]),
    ]

    @Test(arguments: table.indices) func sourcesOnceTwoAnswersAgree(_ index: Int) {
        let row = Self.table[index]
        #expect(EarlyLayers.sources(row.answers) == row.sources)
    }
}
