import Agreement
import OCI

/// ANSI styling for terminal text (a no-op without colour), and removal of control characters so a
/// report from elsewhere cannot send escape sequences to the reader's terminal.
struct TextStyle {
    var color: Bool

    func bold(_ text: String) -> String { wrap(text, "1") }
    /// A value that differs from the majority.
    func dissent(_ text: String) -> String { wrap(text, "1;31") }
    /// A vantage that failed to answer.
    func failure(_ text: String) -> String { wrap(text, "1;33") }

    func verdict(_ verdict: Agreement.Verdict) -> String {
        let word = verdict.rawValue.uppercased()
        switch verdict {
        case .agree: return wrap(word, "1;32")
        case .disagree: return wrap(word, "1;31")
        case .insufficient: return wrap(word, "1;33")
        }
    }

    private func wrap(_ text: String, _ code: String) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// Line breaks become spaces; other control characters (ESC, BEL, C1…), the line separators and
    /// the bidirectional overrides (everything `TerminalText` refuses) become U+FFFD.
    static func clean(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D, 0x09: scalars.append(" ")
            default: scalars.append(TerminalText.needsEscape(scalar) ? "\u{FFFD}" : scalar)
            }
        }
        return String(scalars)
    }
}
