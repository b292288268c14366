// Text helpers: ASCII byte classes for the grammars, and quoting for error messages, so a value from
// the network or the command line stays one readable line whatever it held.

/// `"text"` with control characters escaped, cut after `limit` characters.
func quoted(_ text: String, limit: Int = 80) -> String {
    "\"" + printablePreview(Array(text.utf8), limit: limit) + "\""
}

/// The first `limit` characters of `bytes` decoded as UTF-8 (invalid bytes become U+FFFD), with
/// newlines, tabs and other control characters escaped, and `…` when something was cut.
func printablePreview(_ bytes: some Collection<UInt8>, limit: Int = 80) -> String {
    let text = String(decoding: bytes.prefix(limit * 4), as: UTF8.self)
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit {
            out += "…"
            return out
        }
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
            if scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        count += 1
    }
    if bytes.count > limit * 4 { out += "…" }
    return out
}

/// At most `limit` of `items`, each shown as one printable line of at most 80 characters, joined
/// with ", ", and "and N more" for the rest: a list from the network stays a readable line however
/// long it is.
public func abbreviatedList(_ items: [String], limit: Int = 8) -> String {
    let shown = items.prefix(limit).map { printablePreview(Array($0.utf8), limit: 80) }.joined(separator: ", ")
    return items.count > limit ? "\(shown) and \(items.count - limit) more" : shown
}

func isASCIIDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
func isHexDigit(_ byte: UInt8) -> Bool {
    isASCIIDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
}
func isLowercaseHexDigit(_ byte: UInt8) -> Bool { isASCIIDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) }
func isLowercaseAlphanumeric(_ byte: UInt8) -> Bool { isASCIIDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    isLowercaseAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
}

/// Text made safe to show on a terminal, whatever it holds: the one filter every message, error
/// and rendered report passes through before it is printed (`Terminal` in Commands, the report
/// renderers). Text from the network (a registry's error body, a remote's error text, a formula's
/// name) could otherwise move the cursor, clear the screen, retitle the window or reorder what is
/// shown, e.g. to print a fake verdict.
public enum TerminalText {
    /// `text` with every control character except the line feed and tab shown as `\u{1b}`, and
    /// so are C1 controls (U+0080–U+009F, which some terminals take as ESC sequences), DEL, the line
    /// and paragraph separators and the bidirectional overrides and isolates. With `oneLine`, line
    /// feeds and tabs become spaces too, so the text cannot start a line of its own.
    public static func sanitized(_ text: String, oneLine: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) || (oneLine && ($0 == "\n" || $0 == "\t")) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\t" {
                out.append(oneLine ? " " : scalar)
            } else if needsEscape(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Whether `scalar` is shown escaped by `sanitized` (line feed and tab are not).
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x2028, 0x2029: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
