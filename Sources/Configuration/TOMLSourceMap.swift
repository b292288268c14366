/// Finds the lines of tables and keys in a TOML text, so semantic errors can point at a line.
/// TOMLKit reports positions only for syntax errors; this covers the simple layouts our files use
/// (`[[array]]` headers, `[table]` headers and `key = value` lines), skipping the lines inside
/// multi-line strings.
struct TOMLSourceMap {
    private struct Block {
        var header: String
        var line: Int
        var keys: [String: Int]
    }
    private var blocks: [Block] = [Block(header: "", line: 1, keys: [:])]

    init(text: String) {
        let insideStrings = TOMLPrecheck.linesInsideMultilineStrings(Array(text.utf8))
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Substring.init) {
            lineNumber += 1
            if insideStrings.contains(lineNumber) { continue }
            let line = rawLine.trimmingCharacters(in: " \t\r")
            if line.hasPrefix("[") {
                let header = line.prefix { $0 != "#" }.trimmingCharacters(in: " \t")
                blocks.append(Block(header: header, line: lineNumber, keys: [:]))
            } else if let equals = line.firstIndex(of: "="), !line.hasPrefix("#") {
                let key = line[..<equals].trimmingCharacters(in: " \t\"'")
                if blocks[blocks.count - 1].keys[key] == nil {
                    blocks[blocks.count - 1].keys[key] = lineNumber
                }
            }
        }
    }

    /// The line of the `index`-th `[[name]]` header (0-based), if present.
    func arrayTableLine(_ name: String, index: Int) -> Int? {
        arrayTables(name).dropFirst(index).first?.line
    }

    /// The line of `key` inside the `index`-th `[[name]]` table, else the header's line.
    func line(ofKey key: String, inArrayTable name: String, index: Int) -> Int? {
        guard let block = arrayTables(name).dropFirst(index).first else { return nil }
        return block.keys[key] ?? block.line
    }

    /// The line of a top-level `key`.
    func line(ofTopLevelKey key: String) -> Int? {
        blocks[0].keys[key]
    }

    private func arrayTables(_ name: String) -> [Block] {
        blocks.filter { $0.header.replacingOccurrences(of: " ", with: "") == "[[\(name)]]" }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
