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
