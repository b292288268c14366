import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs command-line tools (skopeo, umoci, podman, tar, openssl...) to completion, with a timeout.
public enum Shell {
    /// The result of one command.
    public struct Output: Sendable {
        public let status: Int32
        public let stdoutData: Data
        public let stderr: String

        public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    }

    /// Runs `args[0]` (looked up on `PATH` unless it contains a `/`) with the rest as arguments.
    /// `env` entries are added to (or replace) the inherited environment. Throws only when the
    /// command cannot start or exceeds `timeout`; a non-zero exit is reported in `status`.
    @discardableResult
    public static func run(
        _ args: [String],
        env: [String: String] = [:],
        stdin: Data? = nil,
        workingDirectory: String? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try runCapturing(args, env: env, stdin: stdin, workingDirectory: workingDirectory, timeout: timeout)
        return (output.status, output.stdout, output.stderr)
    }

    /// Like `run`, but keeps stdout as raw bytes (for manifests whose digest matters).
    public static func runCapturing(
        _ args: [String],
        env: [String: String] = [:],
        stdin: Data? = nil,
        workingDirectory: String? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> Output {
        guard let command = args.first else {
            throw FixtureError("Shell.run was given no command; pass at least the executable name")
        }
        let scratch = try TemporaryDirectory(prefix: "shell")
        let outPath = scratch.file("stdout")
        let errPath = scratch.file("stderr")
        let inPath = scratch.file("stdin")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: stdin ?? Data())
        guard let outHandle = FileHandle(forWritingAtPath: outPath),
              let errHandle = FileHandle(forWritingAtPath: errPath),
              let inHandle = FileHandle(forReadingAtPath: inPath)
        else {
            throw FixtureError("could not open capture files in \(scratch.path) for `\(command)`")
        }
        defer {
            try? outHandle.close()
            try? errHandle.close()
            try? inHandle.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolveExecutable(command))
        process.arguments = Array(args.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(env) { _, new in new }
        if let workingDirectory {
            process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = inHandle
        do {
            try process.run()
        } catch {
            throw FixtureError("could not start `\(args.joined(separator: " "))`: \(error)")
        }

        let started = ContinuousClock.now
        let deadline = started.advanced(by: timeout)
        while process.isRunning {
            // Foundation learns of the end from a socket the child holds; a long-lived process
            // started at the same moment elsewhere in the test run can keep a copy of it. The
            // kernel knows: a child that has exited is a zombie until it is reaped, with its
            // status in /proc (not reaped here: Foundation still does that).
            if ContinuousClock.now - started > .seconds(1), let status = exitedStatus(of: process.processIdentifier) {
                let stdoutData = FileManager.default.contents(atPath: outPath) ?? Data()
                let stderrData = FileManager.default.contents(atPath: errPath) ?? Data()
                return Output(status: status, stdoutData: stdoutData, stderr: String(decoding: stderrData, as: UTF8.self))
            }
            if ContinuousClock.now >= deadline {
                process.terminate()
                usleep(500_000)
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                }
                process.waitUntilExit()
                let stderrText = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
                throw FixtureError(
                    "`\(args.joined(separator: " "))` did not finish within \(timeout) and was killed; stderr: \(stderrText.suffix(2000))"
                )
            }
            usleep(10_000)
        }
        process.waitUntilExit()

        let stdoutData = FileManager.default.contents(atPath: outPath) ?? Data()
        let stderrData = FileManager.default.contents(atPath: errPath) ?? Data()
        return Output(
            status: process.terminationStatus,
            stdoutData: stdoutData,
            stderr: String(decoding: stderrData, as: UTF8.self)
        )
    }

    /// The exit status of a child that has ended but is not reaped yet (a zombie), from
    /// /proc/PID/stat's `exit_code` (field 52, in waitpid's form); nil while it runs.
    static func exitedStatus(of pid: Int32) -> Int32? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let text = String(data: data, encoding: .utf8), let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count >= 50, fields[0] == "Z", let raw = Int32(fields[49]) else { return nil }
        // Exited: the exit code; killed by a signal: as Foundation reports it, the signal number.
        return raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
    }

    /// Runs a command and returns its stdout, throwing with its stderr when it exits non-zero.
    @discardableResult
    public static func check(
        _ args: [String],
        env: [String: String] = [:],
        stdin: Data? = nil,
        workingDirectory: String? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> String {
        let output = try runCapturing(args, env: env, stdin: stdin, workingDirectory: workingDirectory, timeout: timeout)
        guard output.status == 0 else {
            throw FixtureError(
                "`\(args.joined(separator: " "))` exited with status \(output.status); stderr: \(output.stderr.suffix(4000))"
            )
        }
        return output.stdout
    }

    /// The hex SHA-256 of `data`, computed by `sha256sum`.
    public static func sha256Hex(_ data: Data) throws -> String {
        let out = try check(["sha256sum"], stdin: data)
        guard let hex = out.split(separator: " ").first, hex.count == 64 else {
            throw FixtureError("sha256sum printed an unexpected line: \(out)")
        }
        return String(hex)
    }

    /// The absolute path of `name`: itself when it contains a `/`, else the first match on `PATH`.
    public static func resolveExecutable(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        throw FixtureError("`\(name)` was not found on PATH (\(path)); install it or pass an absolute path")
    }
}
