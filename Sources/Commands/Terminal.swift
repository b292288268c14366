import Foundation

/// Writes to stderr and knows whether it is a terminal.
enum Terminal {
    static let stderrIsTerminal = isatty(STDERR_FILENO) != 0

    static func error(_ message: String) {
        write("3tofu: error: \(message)\n")
    }

    static func note(_ message: String) {
        write(message + "\n")
    }

    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
