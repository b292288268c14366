import Foundation

/// Escaping for text placed into GitHub/GitLab-flavoured Markdown, inside or outside table cells.
enum MarkdownText {
    /// Characters that would start emphasis, links, code, HTML, headings or table cells.
    private static let special: Set<Character> = ["\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "~"]

    /// Plain text that renders literally; line breaks become spaces so it stays on one line (and in one cell).
    static func plain(_ text: String) -> String {
        var out = ""
        for character in oneLine(text) {
            if special.contains(character) { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// A code span that renders `text` literally. In a table cell `|` is still escaped: GFM splits
    /// cells before it parses code spans, and shows `\|` inside a code span as `|`.
    static func code(_ text: String, inTable: Bool) -> String {
        var content = oneLine(text)
        if inTable { content = content.replacingOccurrences(of: "|", with: "\\|") }
        var longestRun = 0
        var run = 0
        for character in content {
            run = character == "`" ? run + 1 : 0
            longestRun = max(longestRun, run)
        }
        let fence = String(repeating: "`", count: longestRun + 1)
        let padding = longestRun > 0 || content.hasPrefix(" ") || content.hasSuffix(" ") ? " " : ""
        return fence + padding + content + padding + fence
    }

    /// A table row from already-formatted cells.
    static func row(_ cells: [String]) -> String {
        "| " + cells.joined(separator: " | ") + " |"
    }

    /// One line, and nothing a terminal would act on (the Markdown is often read as printed):
    /// control characters and bidirectional overrides become U+FFFD, as in the text view.
    private static func oneLine(_ text: String) -> String {
        TextStyle.clean(text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).joined(separator: " "))
    }
}
