/// Help text whose indented lines (examples, definition lists) stay indented: argument-parser
/// wraps a long line at the screen's width and puts the rest at column 0, so every indented line
/// is wrapped here first, to `width`, with its continuation indented under it. A wrapped command
/// example gets a shell line continuation (` \`) so that it still pastes as one command. Pure.
enum HelpText {
    /// argument-parser's width when the output is not a terminal (80), less one column.
    static let width = 79

    static func wrap(_ text: String, width: Int = HelpText.width) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let line = String(line)
            guard line.first == " ", line.count > width else { return line }
            return wrapIndented(line, width: width)
        }.joined(separator: "\n")
    }

    private static func wrapIndented(_ line: String, width: Int) -> String {
        let indent = line.prefix { $0 == " " }.count
        let body = line.dropFirst(indent)
        let isCommand = body.hasPrefix("3tofu ") || body.hasPrefix("brew ") || body.hasPrefix("docker ")
        // "name    description": continuation lines start under the description.
        var hanging = isCommand ? indent + 4 : indent
        if !isCommand, let gap = body.range(of: "  ") {
            let after = body[gap.upperBound...].prefix { $0 == " " }.count
            let column = indent + body.distance(from: body.startIndex, to: gap.lowerBound) + 2 + after
            if column < width / 2 { hanging = column }
        }
        let continuation = isCommand ? " \\" : ""
        var lines: [String] = []
        var current = String(line.prefix(indent))
        var currentHasWord = false
        var rest = Substring(body)
        // Keep the run of spaces after the first word (a definition list's alignment).
        while !rest.isEmpty {
            let spaces = rest.prefix { $0 == " " }
            rest = rest.dropFirst(spaces.count)
            let word = rest.prefix { $0 != " " }
            rest = rest.dropFirst(word.count)
            if word.isEmpty { break }
            let separator = currentHasWord ? String(spaces) : ""
            if currentHasWord, current.count + separator.count + word.count + continuation.count > width {
                lines.append(current + continuation)
                current = String(repeating: " ", count: hanging) + word
            } else {
                current += separator + word
            }
            currentHasWord = true
        }
        lines.append(current)
        return lines.joined(separator: "\n")
    }
}
