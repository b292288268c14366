import Foundation
import OCI
import Synchronization

/// Every byte 3tofu prints goes through here: stderr for messages, stdout for results. Text is made
/// safe on the way (`TerminalText.sanitized`), whatever it holds and wherever it came from (a
/// registry's error body, a remote's curl error, a formula's name), so nothing printed can move
/// the cursor, clear the screen or fake a line. Colour is added here only, from `Style`.
enum Terminal {
    static let stderrIsTerminal = isatty(STDERR_FILENO) != 0
    static let stdoutIsTerminal = isatty(STDOUT_FILENO) != 0

    /// The colours 3tofu uses; the escape sequences are written by `Styled.rendered` alone.
    enum Style: String {
        /// A value or verdict that is not agreement.
        case alarm = "1;31"
        /// The verdict agree.
        case fine = "1;32"
    }

    /// Text in parts, some coloured: built by the summary tables, printed by `write(_:)`.
    struct Styled {
        private(set) var parts: [(text: String, style: Style?)] = []

        init(_ text: String = "") {
            if !text.isEmpty { parts.append((text, nil)) }
        }

        mutating func append(_ text: String, style: Style? = nil) {
            parts.append((text, style))
        }

        mutating func append(_ other: Styled) {
            parts += other.parts
        }

        static func + (left: Styled, right: Styled) -> Styled {
            var joined = left
            joined.append(right)
            return joined
        }

        static func + (left: String, right: Styled) -> Styled { Styled(left) + right }

        /// Every part sanitized, and with `color` wrapped in its style's escape sequence.
        func rendered(color: Bool) -> String {
            parts.map { part in
                let text = TerminalText.sanitized(part.text)
                guard color, let style = part.style else { return text }
                return "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m"
            }.joined()
        }
    }

    static func error(_ message: String) {
        write("3tofu: error: \(message)\n")
    }

    /// `-q`: notes and progress are not printed; errors and the verdict are.
    static var quiet: Bool {
        get { quietFlag.withLock { $0 } }
        set { quietFlag.withLock { $0 = newValue } }
    }

    private static let quietFlag = Mutex(false)

    /// A message that is neither an error nor the verdict: not printed under `-q`.
    static func note(_ message: String) {
        if quiet { return }
        write(message + "\n")
    }

    /// Replaces a live block of `previous` lines on stderr with `lines` (see `ProgressView.redraw`),
    /// each line sanitized to one line.
    static func redraw(previous: Int, lines: [String]) {
        writeStandardError(ProgressView.redraw(previous: previous, lines: lines.map { TerminalText.sanitized($0, oneLine: true) }))
    }

    /// The width of the terminal on stderr, or nil when it is not one (or will not say).
    static func stderrColumns() -> Int? {
        var size = winsize()
        let status = withUnsafeMutablePointer(to: &size) { ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), $0) }
        guard status == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Writes `text` to stderr, sanitized.
    static func write(_ text: String) {
        writeStandardError(TerminalText.sanitized(text))
    }

    /// Writes styled text to stderr: sanitized, coloured when stderr is a terminal.
    static func write(_ styled: Styled) {
        writeStandardError(styled.rendered(color: stderrIsTerminal))
    }

    /// Replaces the current stderr line (progress on a terminal) with `text`, kept to one line.
    static func rewriteLine(_ text: String) {
        writeStandardError("\r\u{1B}[2K" + TerminalText.sanitized(text, oneLine: true))
    }

    /// Clears the current stderr line.
    static func clearLine() {
        writeStandardError("\r\u{1B}[2K")
    }

    /// Prints `text` and a line feed on stdout, sanitized.
    static func out(_ text: String, terminator: String = "\n") {
        print(TerminalText.sanitized(text), terminator: terminator)
    }

    /// Prints a JSON document on stdout. The encoder already escapes C0 controls inside strings;
    /// the other characters `TerminalText` refuses (DEL, C1, separators, bidirectional controls)
    /// become `\uXXXX` escapes, which JSON readers decode to the same string.
    static func outJSON(_ json: String) {
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x20, TerminalText.needsEscape(scalar) {
                out.append(contentsOf: String(format: "\\u%04x", scalar.value).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        print(String(out))
    }

    private static func writeStandardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
