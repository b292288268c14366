extension Comparison {
    /// The vantages whose value for this item differs from what most of `answering` saw: those
    /// outside the single largest group of identical values (having no value counts as a value);
    /// on a tie, every one of them. Empty when the item agrees. Pure; the terminal table and the
    /// report views mark only these cells.
    public func dissenters(among answering: [String]) -> Set<String> {
        guard !agree else { return [] }
        let groups = Dictionary(grouping: answering) { values[$0] }
        let largest = groups.values.map(\.count).max() ?? 0
        let leaders = groups.values.filter { $0.count == largest }
        guard leaders.count == 1, let leader = leaders.first else { return Set(answering) }
        return Set(answering).subtracting(leader)
    }
}
