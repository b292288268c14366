import Foundation
import OCI
import Registry
#if canImport(Glibc)
import Glibc
#endif

/// Turns the login flags into the run's logins, before any vantage is asked: the password from
/// the terminal or stdin for `--creds USER`, then `LoginResolver` (auth files, credential helpers).
/// A configuration that cannot give a login is exit 2; a helper that fails or hangs is exit 3.
enum Logins {
    /// `names`: the images the run reads, `host[:port]/repository`.
    static func resolve(
        _ options: LoginOptions, names: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RegistryCredentials {
        let request: LoginPlan.Request
        if options.noCreds {
            request = .anonymous
        } else if let creds = options.creds {
            request = .given(try credential(creds, passwordStdin: options.passwordStdin, registry: names.first.map { LoginKey.host(of: $0) } ?? "the registry"))
        } else {
            request = .files(authfile: options.authfile)
        }
        do {
            return try LoginResolver.resolve(request, names: names, environment: environment)
        } catch let failure as RegistryError where failure.kind == .loginUnusable || failure.kind == .loginFailed {
            throw ToolFailure(failure.isBadInput ? .badInput : .notMet, failure.message)
        }
    }

    static func credential(_ creds: String, passwordStdin: Bool, registry: String) throws -> RegistryCredential {
        if let colon = creds.firstIndex(of: ":") {
            return RegistryCredential(username: String(creds[..<colon]), password: String(creds[creds.index(after: colon)...]))
        }
        let password = passwordStdin ? try readStandardInput() : try prompt("Password for \(creds) at \(registry): ")
        guard !password.isEmpty else {
            throw ToolFailure(.badInput, "the password for --creds \(creds) is empty; give it on stdin (--password-stdin) or at the prompt")
        }
        return RegistryCredential(username: creds, password: password)
    }

    /// All of stdin (at most 64 KiB) without its final line break, as `skopeo login --password-stdin`.
    static func readStandardInput() throws -> String {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count <= 64 * 1024 {
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                throw ToolFailure(.badInput, "cannot read the password from stdin (\(String(cString: strerror(errno))))")
            }
            data.append(contentsOf: buffer[0..<count])
        }
        guard data.count <= 64 * 1024 else { throw ToolFailure(.badInput, "--password-stdin: stdin holds more than 64 KiB, which is not a password") }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        if text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    nonisolated(unsafe) private static var promptTTY: Int32 = -1
    nonisolated(unsafe) private static var promptSaved = termios()

    /// A signal handler: only async-signal-safe calls.
    private static func restoreTerminalAndDie(_ number: Int32) {
        if promptTTY >= 0 {
            _ = tcsetattr(promptTTY, TCSANOW, &promptSaved)
            _ = write(promptTTY, "\n", 1)
        }
        signal(number, SIG_DFL)
        raise(number)
    }

    /// Asks on the controlling terminal with echo off, and puts the terminal back as it was.
    static func prompt(_ question: String) throws -> String {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard tty >= 0 else {
            throw ToolFailure(.badInput, "--creds has no password and there is no terminal to ask for it; give --creds USER:PASSWORD or pipe it with --password-stdin")
        }
        defer { close(tty) }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else {
            throw ToolFailure(.badInput, "--creds has no password and /dev/tty is not a terminal to ask on; use --password-stdin")
        }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ICANON)
        // Echo goes off before the question shows, so nothing typed after it is ever echoed; what
        // was typed ahead stays (TCSANOW, not TCSAFLUSH). Ctrl-C (or a SIGTERM, SIGHUP) while it
        // asks puts the terminal back before 3tofu dies of it.
        promptTTY = tty
        promptSaved = saved
        let previous = [SIGINT, SIGTERM, SIGHUP].map { number in (number, signal(number) { Logins.restoreTerminalAndDie($0) }) }
        _ = tcsetattr(tty, TCSANOW, &quiet)
        defer {
            _ = tcsetattr(tty, TCSANOW, &saved)
            _ = write(tty, "\n", 1)
            for (number, handler) in previous { signal(number, handler) }
            promptTTY = -1
        }
        let text = TerminalText.sanitized(question)
        _ = text.withCString { write(tty, $0, strlen($0)) }
        var line = Data()
        var byte: UInt8 = 0
        while line.count < 64 * 1024 {
            let count = read(tty, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        var password = String(decoding: line, as: UTF8.self)
        if password.hasSuffix("\r") { password.removeLast() }
        return password
    }
}
