import TOMLKit

/// Checks run on a vantages or policy file before the TOML parser sees it, for inputs the
/// parser (toml++ under TOMLKit) mishandles: a table header that does not start with a name
/// (`[[[`, `[.`, `[=` …) trips an assertion that aborts the process, and a NUL (raw or
/// escaped) silently cuts a value short where TOMLKit hands strings over as C strings.
enum TOMLPrecheck {
    /// These files are a few kilobytes; anything much larger is not one.
    static let maximumBytes = 1 << 20

    static func check(_ text: String, path: String) throws {
        guard text.utf8.count <= maximumBytes else {
            throw ConfigurationError(file: path, message: "the file has \(text.utf8.count) bytes, more than the \(maximumBytes / 1024) KiB a configuration file may have; is it the right file?")
        }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = number + 1
            if line.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0D }) {
                throw ConfigurationError(file: path, line: lineNumber, message: "the line holds a control character (such as NUL); TOML allows only tabs; remove it")
            }
            if line.contains("\\u0000") || line.contains("\\U00000000") {
                throw ConfigurationError(file: path, line: lineNumber, message: "a string holds an escaped NUL (\\u0000), which no name, URL or path may contain; remove it")
            }
            if let problem = badTableHeader(line) {
                throw ConfigurationError(file: path, line: lineNumber, message: "TOML syntax error: \(problem)")
            }
        }
    }

    /// A line that opens a table header whose first character cannot start a key.
    static func badTableHeader(_ line: Substring) -> String? {
        var bytes = line.utf8.drop { $0 == 0x20 || $0 == 0x09 }
        guard bytes.first == UInt8(ascii: "[") else { return nil }
        bytes = bytes.dropFirst()
        let isArrayTable = bytes.first == UInt8(ascii: "[")
        if isArrayTable { bytes = bytes.dropFirst() }
        let hadSpace = bytes.first == 0x20 || bytes.first == 0x09
        bytes = bytes.drop { $0 == 0x20 || $0 == 0x09 }
        guard let next = bytes.first else { return nil }
        let startsKey = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(next) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(next)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) || next == UInt8(ascii: "_") || next == UInt8(ascii: "-")
            || next == UInt8(ascii: "\"") || next == UInt8(ascii: "'") || next == UInt8(ascii: "]") || next == 0x0D || next >= 0x80
        // `[ [` opens an array value inside a multi-line array, not a header.
        if startsKey || (!isArrayTable && hadSpace && next == UInt8(ascii: "[")) { return nil }
        return "a table header (\(isArrayTable ? "[[" : "[")…) must start with a key name, not '\(Character(Unicode.Scalar(next)))'"
    }
}

/// A configuration file's TOML, checked and parsed: the table and where its keys stand.
struct ParsedTOML {
    var table: TOMLTable
    var map: TOMLSourceMap

    /// Runs `TOMLPrecheck`, parses with TOMLKit, and turns a syntax error into a `ConfigurationError`
    /// with the file and line.
    init(text: String, path: String) throws {
        try TOMLPrecheck.check(text, path: path)
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: path, line: error.source.begin.line, message: "TOML syntax error: \(error.description)")
        }
        map = TOMLSourceMap(text: text)
    }
}
