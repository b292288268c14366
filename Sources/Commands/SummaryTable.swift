import Agreement
import Coordinator

/// The terminal summary of an image pull: `SubjectOutcome`'s table with the image's headline items
/// (the digests and the layer count), plus `short` for digests in narrow cells.
enum SummaryTable {
    static let headlineItems: Set<String> = ["manifest", "platform manifest", "config", "layer count", "index entries"]

    static func rows(_ result: PullResult) -> [SubjectOutcome.Row] {
        result.vantages.map { SubjectOutcome.Row(name: $0.spec.name, route: $0.route, failure: $0.failure) }
    }

    static func render(_ result: PullResult) -> Terminal.Styled {
        SubjectOutcome.render(rows(result), decision: result.decision, headline: headlineItems)
    }

    /// `sha256:0123456789ab…` keeps the table readable; full digests are in --json output and reports.
    static func short(_ value: String) -> String {
        guard value.hasPrefix("sha256:"), value.count > 19 else { return value }
        let digest = value.prefix { $0 != " " }
        return String(digest.prefix(19)) + "…" + value.dropFirst(digest.count)
    }
}
