import Agreement

/// The agreement matrix of a report, independent of how it is drawn: one row per vantage, one column
/// per shown compared item, and which cells differ from the majority.
struct ReportMatrix {
    /// Reports with more compared items than this show only the headline items and those that disagree.
    static let maximumFullColumns = 5
    static let headlineItems: Set<String> = ["manifest", "platform manifest", "config", "layer count"]

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
            let headline = comparisons.contains { Self.headlineItems.contains($0.item) }
                ? Set(comparisons.map(\.item).filter { Self.headlineItems.contains($0) })
                : Set(comparisons.prefix(Self.headlineItems.count).map(\.item))
            shown = comparisons.filter { headline.contains($0.item) || !$0.agree }
        }
        let shownItems = Set(shown.map(\.item))
        columns = shown.map { Column(item: $0.item, agree: $0.agree) }
        hiddenItems = comparisons.map(\.item).filter { !shownItems.contains($0) }
        let majorities = shown.map { Self.majorityValue(of: $0) }
        rows = report.vantages.map { vantage in
            let cells: [Cell] = zip(shown, majorities).map { comparison, majority in
                guard vantage.status == .ok else { return .failed }
                guard let value = comparison.values[vantage.name] else { return .absent(dissent: !comparison.agree) }
                return .value(value, dissent: !comparison.agree && value != majority)
            }
            return Row(vantage: vantage, cells: cells)
        }
    }

    /// The value held by the single largest group of vantages, or nil on a tie (then every value dissents).
    static func majorityValue(of comparison: Comparison) -> String? {
        var counts: [String: Int] = [:]
        for value in comparison.values.values { counts[value, default: 0] += 1 }
        guard let largest = counts.values.max() else { return nil }
        let leaders = counts.filter { $0.value == largest }
        return leaders.count == 1 ? leaders.first?.key : nil
    }
}
