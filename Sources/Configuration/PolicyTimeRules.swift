import Agreement
import TOMLKit

/// The time rules of a policy file: `min_distinct_days`, `min_first_seen`, `tag_moved`. Each is
/// optional (absent: no such rule); a bad value is an error with the file, line and field.
enum PolicyTimeRules {
    static let keys: Set<String> = ["min_distinct_days", "min_first_seen", "tag_moved"]

    static func parse(_ table: TOMLTable, error: (String, String) -> ConfigurationError) throws -> TimeRules {
        var rules = TimeRules()
        if let value = table["min_distinct_days"] {
            guard let days = value.int, days >= 0, days <= 3650 else {
                throw error("min_distinct_days", "must be a whole number of days from 0 to 3650 (e.g. 3)")
            }
            rules.minDistinctDays = days
        }
        if let value = table["min_first_seen"] {
            guard let text = value.string else {
                throw error("min_first_seen", "must be a duration in quotes such as \"72h\", \"3d\", \"90m\"")
            }
            guard let seconds = TimeRules.parseDuration(text), seconds <= 3650 * 86_400 else {
                throw error("min_first_seen", "'\(text)' is not a duration: write a whole number and one unit, s, m, h or d (e.g. \"72h\"), at most 3650 days")
            }
            rules.minFirstSeenSeconds = seconds
        }
        if let value = table["tag_moved"] {
            guard let text = value.string, let choice = TimeRules.TagMoved(rawValue: text) else {
                throw error("tag_moved", "must be one of \(TimeRules.TagMoved.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            rules.tagMoved = choice
        }
        return rules
    }
}
