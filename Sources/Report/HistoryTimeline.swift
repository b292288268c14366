import Agreement

/// The timeline of a subject's agreed digests: per digest when it was first and last seen, on
/// which UTC days, by which vantages and from where; and every move of the tag to another
/// digest, in order. Pure: made from the agreeing runs, as `history` and `report show` show it.
public struct HistoryTimeline: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var digest: String
        public var firstSeen: String
        public var lastSeen: String
        /// Distinct UTC days ("2026-12-01"), in order.
        public var days: [String]
        public var vantages: [String]
        public var sources: [String]
        public var runs: Int
    }

    public struct Move: Codable, Sendable, Equatable {
        /// When the new digest was first seen after the old one.
        public var time: String
        public var from: String
        public var to: String
    }

    public var entries: [Entry]
    public var moves: [Move]

    public init(runs: [TimeRules.PastRun]) {
        let ordered = runs.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        var entries: [Entry] = []
        var moves: [Move] = []
        var previous: String?
        for run in ordered {
            if let index = entries.firstIndex(where: { $0.digest == run.digest }) {
                var entry = entries[index]
                entry.lastSeen = run.time
                let day = String(run.time.prefix(10))
                if !entry.days.contains(day) { entry.days.append(day) }
                entry.vantages = Array(Set(entry.vantages).union(run.vantages)).sorted()
                entry.sources = Array(Set(entry.sources).union([run.source])).sorted()
                entry.runs += 1
                entries[index] = entry
            } else {
                entries.append(
                    Entry(
                        digest: run.digest, firstSeen: run.time, lastSeen: run.time, days: [String(run.time.prefix(10))], vantages: run.vantages.sorted(),
                        sources: [run.source], runs: 1))
            }
            if let previous, previous != run.digest {
                moves.append(Move(time: run.time, from: previous, to: run.digest))
            }
            previous = run.digest
        }
        self.entries = entries
        self.moves = moves
    }

    /// Plain lines, one per digest and one per move (for the terminal and `report show`).
    public var lines: [String] {
        var lines: [String] = []
        for entry in entries {
            lines.append(
                "\(entry.digest): first seen \(entry.firstSeen), last seen \(entry.lastSeen), on \(entry.days.count) UTC day\(entry.days.count == 1 ? "" : "s") "
                    + "(\(entry.days.joined(separator: ", "))), \(entry.runs) run\(entry.runs == 1 ? "" : "s"), by \(entry.vantages.joined(separator: ", "))"
                    + (entry.sources == ["local"] ? "" : " [from \(entry.sources.joined(separator: "; "))]"))
        }
        for move in moves {
            lines.append("MOVED at \(move.time): \(move.from) -> \(move.to)")
        }
        return lines
    }
}
