import TOMLKit

/// Checks run on a vantages or policy file before the TOML parser sees it, for inputs the
/// parser (toml++ under TOMLKit) mishandles: where a key or a value must start but something
/// else stands (`[[.`, `[é`, `[` at the end of a line, `a = [}`), toml++ trips an assertion that
/// aborts the process; and a NUL (raw or escaped) silently cuts a value short where TOMLKit
/// hands strings over as C strings.
enum TOMLPrecheck {
    /// These files are a few kilobytes; anything much larger is not one.
    static let maximumBytes = 1 << 20

    static func check(_ text: String, path: String) throws {
        guard text.utf8.count <= maximumBytes else {
            throw ConfigurationError(file: path, message: "the file has \(text.utf8.count) bytes, more than the \(maximumBytes / 1024) KiB a configuration file may have; is it the right file?")
        }
        // Split at LF bytes: as Characters, a CRLF line end is one "\r\n" that "\n" does not match.
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (number, bytes) in lines.enumerated() {
            let lineNumber = number + 1
            // A CR is allowed only as the first half of a CRLF line end.
            let line = Substring(bytes.last == 0x0D && number < lines.count - 1 ? bytes.dropLast() : bytes)
            if line.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 }) {
                throw ConfigurationError(
                    file: path, line: lineNumber,
                    message: "the line holds a control character (such as NUL, or a carriage return that does not end the line); TOML allows only tabs; remove it")
            }
        }
        if let (lineNumber, problem) = syntaxProblem(Array(text.utf8)) {
            throw ConfigurationError(file: path, line: lineNumber, message: problem)
        }
    }

    static let escapedNULMessage = "a string holds an escaped NUL (\\u0000), which no name, URL or path may contain; remove it"

    /// Walks the text outside strings and comments, as toml++ reads it, for the places where toml++
    /// asserts instead of reporting an error: a table header (a '[' that starts a line outside any
    /// value) whose key does not start right away, an array element that is '}' or a Unicode line
    /// separator, two date-time shapes. All are syntax errors in every TOML file. Inside basic
    /// strings it also finds an escaped NUL (`\u0000`, `\U00000000`). Returns the line and the message.
    static func syntaxProblem(_ bytes: [UInt8]) -> (Int, String)? {
        switch firstProblem(bytes) {
        case nil: return nil
        case (let line, .syntax(let problem))?: return (line, "TOML syntax error: \(problem)")
        case (let line, .escapedNUL)?: return (line, escapedNULMessage)
        }
    }

    private enum Problem {
        case syntax(String)
        case escapedNUL
    }

    /// The numbers of the lines that begin inside a multi-line string (for `TOMLSourceMap`, which
    /// must not read them as headers or keys). Meaningful for a text the pre-check accepted.
    static func linesInsideMultilineStrings(_ bytes: [UInt8]) -> Set<Int> {
        var lines: Set<Int> = []
        _ = firstProblem(bytes) { lines.insert($0) }
        return lines
    }

    private static func firstProblem(_ bytes: [UInt8], lineInsideString: (Int) -> Void = { _ in }) -> (Int, Problem)? {
        let newline = UInt8(ascii: "\n")
        var line = 1
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0  // toml++ skips a byte order mark
        var open: [UInt8] = []  // '[' and '{' of values still open, innermost last
        var expectingValue = false  // after '=', or where an array element may start
        var atLineStart = true
        var last: UInt8 = 0  // the last byte outside white space, strings and comments
        func starts(_ prefix: [UInt8], at position: Int) -> Bool {
            position + prefix.count <= bytes.count && bytes[position..<position + prefix.count].elementsEqual(prefix)
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case newline:
                line += 1
                atLineStart = true
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0D:
                index += 1
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != newline { index += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                // Skip the string (escapes only in basic ones), counting the line breaks of multi-line ones.
                let delimiter = starts([byte, byte, byte], at: index) ? [byte, byte, byte] : [byte]
                index += delimiter.count
                while index < bytes.count, !starts(delimiter, at: index) {
                    let current = bytes[index]
                    if current == newline {
                        if delimiter.count == 1 { break }  // unterminated: toml++ reports it
                        line += 1
                        lineInsideString(line)
                    } else if byte == UInt8(ascii: "\""), current == UInt8(ascii: "\\") {
                        // An escape. TOMLKit hands strings over as C strings: an escaped NUL would cut
                        // the value short. Compared as bytes, so a combining mark after it hides nothing.
                        if starts(Array("u0000".utf8), at: index + 1) || starts(Array("U00000000".utf8), at: index + 1) {
                            return (line, .escapedNUL)
                        }
                        // Skip the escaped byte, but not a line break (a line-ending backslash): it is counted.
                        if index + 1 < bytes.count, bytes[index + 1] != newline { index += 1 }
                    }
                    index += 1
                }
                if starts(delimiter, at: index) { index += delimiter.count }
                // A multi-line string may end in up to two more quotes ("""a"""" holds a").
                if delimiter.count == 3 { for _ in 0..<2 where index < bytes.count && bytes[index] == byte { index += 1 } }
                last = byte
                atLineStart = false
                expectingValue = false
            case UInt8(ascii: "[") where open.isEmpty && atLineStart:
                if let problem = tableHeaderProblem(bytes, at: index) { return (line, .syntax(problem)) }
                // The rest of the line is the header's key, ']' or ']]', and maybe a comment.
                while index < bytes.count, bytes[index] != newline { index += 1 }
                last = UInt8(ascii: "]")
            default:
                if last == UInt8(ascii: "[") || last == UInt8(ascii: ",") {
                    if byte == UInt8(ascii: "}") {
                        return (line, .syntax("'}' where a value or ']' should follow '\(Character(Unicode.Scalar(last)))'"))
                    }
                    if starts([0xC2, 0x85], at: index) || starts([0xE2, 0x80, 0xA8], at: index) || starts([0xE2, 0x80, 0xA9], at: index) {
                        return (line, .syntax("a Unicode line separator where a value or ']' should follow '\(Character(Unicode.Scalar(last)))'; use a plain line break"))
                    }
                }
                if expectingValue, let problem = dateTimeProblem(bytes, at: index) { return (line, .syntax(problem)) }
                switch byte {
                case UInt8(ascii: "["), UInt8(ascii: "{"): open.append(byte)
                case UInt8(ascii: "]"), UInt8(ascii: "}"): _ = open.popLast()
                default: break
                }
                expectingValue = byte == UInt8(ascii: "=") || byte == UInt8(ascii: "[") || (byte == UInt8(ascii: ",") && open.last == UInt8(ascii: "["))
                last = byte
                atLineStart = false
                index += 1
            }
        }
        return nil
    }

    /// A value shaped like a date and a 'T' but without a digit after the 'T' (`1979-05-27T:`), or like
    /// a date, a space and a single digit (`1979-05-27 0`, `1979-04-r7 1`): toml++ asserts on both (the
    /// first when the value also holds a ':'). Neither is ever a valid value.
    static func dateTimeProblem(_ bytes: [UInt8], at start: Int) -> String? {
        func isDigit(_ offset: Int) -> Bool { start + offset < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[start + offset]) }
        func isByte(_ offset: Int, _ characters: String) -> Bool { start + offset < bytes.count && characters.utf8.contains(bytes[start + offset]) }
        // toml++ goes by the shape: a digit, then ten characters of one value with '-' at 4 and 7.
        func isInValue(_ offset: Int) -> Bool {
            start + offset < bytes.count && (0x21...0x7E).contains(bytes[start + offset]) && !isByte(offset, "]},#")
        }
        guard isDigit(0), (1..<10).allSatisfy(isInValue), isByte(4, "-"), isByte(7, "-") else { return nil }
        if isByte(10, "Tt"), !isDigit(11) {
            return "a date-time needs the time (HH:MM:SS) right after the 'T'"
        }
        // `1979-05-27 0`: toml++ reads a space and one digit as the start of a time, then asserts.
        if isByte(10, " "), isDigit(11), !isDigit(12) {
            return "a date-time needs a two-digit hour after the space"
        }
        return nil
    }

    /// What is wrong with the table header that starts at `start`, if anything: after '[' or '[['
    /// and spaces, toml++ expects a key (or ']', which it reports itself).
    static func tableHeaderProblem(_ bytes: [UInt8], at start: Int) -> String? {
        var index = start + 1
        let isArrayTable = index < bytes.count && bytes[index] == UInt8(ascii: "[")
        if isArrayTable { index += 1 }
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
        let opening = isArrayTable ? "[[" : "["
        guard index < bytes.count, bytes[index] != UInt8(ascii: "\n"), bytes[index] != 0x0D else {
            return "a table header (\(opening)) must hold a key name on its line"
        }
        let next = bytes[index]
        let startsKey = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(next) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(next)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) || next == UInt8(ascii: "_") || next == UInt8(ascii: "-")
            || next == UInt8(ascii: "\"") || next == UInt8(ascii: "'") || next == UInt8(ascii: "]")
        if startsKey { return nil }
        let shown = String(decoding: bytes[index..<min(bytes.count, index + 4)], as: UTF8.self).prefix(1)
        return "a table header (\(opening)…) must start with a key name (ASCII letters, digits, '-', '_' or a quote), not '\(shown)'"
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
