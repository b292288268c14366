import Agreement

/// The agreement matrix of a report, independent of how it is drawn: one row per vantage, one column
/// per shown compared item, and which cells differ from the majority.
struct ReportMatrix {
    /// Reports with more compared items than this show only the headline items and those that disagree.
    static let maximumFullColumns = 5
    /// The items a report of each subject kind always shows: its own, so that a bottle's or a
    /// file's report is not cut down to the columns an image would keep.
    static func headlineItems(_ kind: AgreementReport.Subject.Kind) -> [String] {
        switch kind {
        case .image: ["manifest", "platform manifest", "config", "layer count"]
        case .bottle: ["version", "layer", "annotation digest", "formula API sha256"]
        case .file: ["sha256", "size", "published sha256"]
        }
    }

    struct Column: Equatable {
        var item: String
        var agree: Bool
    }

    enum Cell: Equatable {
        /// A value the vantage saw; `dissent` when it is not the majority's value of a disagreeing item.
        case value(String, dissent: Bool)
        /// An answering vantage that has no value for an item other vantages have.
        case absent(dissent: Bool)
        /// The vantage failed; it has no values.
        case failed

        var isDissent: Bool {
            switch self {
            case .value(_, let dissent), .absent(let dissent): dissent
            case .failed: false
            }
        }
    }

    struct Row {
        var vantage: AgreementReport.VantageEntry
        var cells: [Cell]
    }

    var columns: [Column]
    var rows: [Row]
    /// Agreeing items left out of a wide report.
    var hiddenItems: [String]

    var hasDissent: Bool { rows.contains { $0.cells.contains(where: \.isDissent) } }

    init(_ report: AgreementReport) {
        let comparisons = report.comparisons
        var shown = comparisons
        if comparisons.count > Self.maximumFullColumns {
            let kindHeadline = Set(Self.headlineItems(report.subject.kind))
            let headline = comparisons.contains { kindHeadline.contains($0.item) }
                ? Set(comparisons.map(\.item).filter { kindHeadline.contains($0) })
                : Set(comparisons.prefix(kindHeadline.count).map(\.item))
            shown = comparisons.filter { headline.contains($0.item) || !$0.agree }
        }
        let shownItems = Set(shown.map(\.item))
        columns = shown.map { Column(item: $0.item, agree: $0.agree) }
        hiddenItems = comparisons.map(\.item).filter { !shownItems.contains($0) }
        let answering = report.vantages.filter { $0.status == .ok }.map(\.name)
        let dissenters = shown.map { Self.dissenters(of: $0, answering: answering) }
        rows = report.vantages.map { vantage in
            let cells: [Cell] = zip(shown, dissenters).map { comparison, dissenters in
                guard vantage.status == .ok else { return .failed }
                let dissent = dissenters.contains(vantage.name)
                guard let value = comparison.values[vantage.name] else { return .absent(dissent: dissent) }
                return .value(value, dissent: dissent)
            }
            return Row(vantage: vantage, cells: cells)
        }
    }

    /// Answering vantages outside the single largest group of identical answers (having no value
    /// counts as an answer); on a tie, every answering vantage (`Comparison.dissenters`).
    static func dissenters(of comparison: Comparison, answering: [String]) -> Set<String> {
        comparison.dissenters(among: answering)
    }
}
