import Agreement

/// Which compared items the terminal table has room for. Pure.
enum TableColumns {
    /// Columns beyond the vantage, route and status that fit a terminal line.
    static let maximum = 6

    /// The headline and disagreeing items, in their order; when there are more than `maximum`,
    /// the disagreeing ones are kept first (a dissent is never the column left out), and `left`
    /// names what is not shown so that the table can say so.
    static func pick(_ comparisons: [Comparison], headline: Set<String>) -> (shown: [Comparison], left: [Comparison]) {
        let wanted = comparisons.filter { headline.contains($0.item) || !$0.agree }
        guard wanted.count > maximum else { return (wanted, []) }
        let disagreeing = wanted.filter { !$0.agree }
        let kept = Set((disagreeing + wanted.filter(\.agree)).prefix(maximum).map(\.item))
        return (wanted.filter { kept.contains($0.item) }, wanted.filter { !kept.contains($0.item) })
    }

    /// "6 more items not shown (layer 7: differs, layer 8: differs, manifest, …, layer count); every value is in --report (3tofu report show)".
    static func note(_ left: [Comparison]) -> String {
        let names = (left.filter { !$0.agree } + left.filter(\.agree)).map { $0.agree ? $0.item : "\($0.item): differs" }
        let listed = names.count > 4 ? names.prefix(3).joined(separator: ", ") + ", …, " + (names.last ?? "") : names.joined(separator: ", ")
        return "\(left.count) more item\(left.count == 1 ? "" : "s") not shown (\(listed)); every value is in the report (--report FILE, then 3tofu report show FILE)"
    }
}
