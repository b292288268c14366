import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A long-running server process for a test: output goes to a log file, `stop()` (or release)
/// sends SIGTERM, waits up to 3 s, then SIGKILLs and reaps it.
public final class ManagedProcess: @unchecked Sendable {
    public let name: String
    public let logPath: String
    public let processIdentifier: Int32

    private let process: Process
    private let logHandle: FileHandle
    private let logDirectory: TemporaryDirectory?
    private let lock = NSLock()
    private var stopped = false

    /// Starts `executable` (a path, or a name looked up on `PATH`). `environment` entries are
    /// added to the inherited environment. Without `logPath`, the log goes to a new temp directory.
    public init(
        executable: String,
        arguments: [String],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        logPath: String? = nil
    ) throws {
        let resolved = try Shell.resolveExecutable(executable)
        name = URL(fileURLWithPath: resolved).lastPathComponent
        if let logPath {
            self.logPath = logPath
            logDirectory = nil
        } else {
            let directory = try TemporaryDirectory(prefix: "\(name)-log")
            self.logPath = directory.file("\(name).log")
            logDirectory = directory
        }
        _ = FileManager.default.createFile(atPath: self.logPath, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: self.logPath) else {
            throw FixtureError("could not open log file \(self.logPath) for \(name)")
        }
        logHandle = handle

        let process = Process()
        process.executableURL = URL(fileURLWithPath: resolved)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let workingDirectory {
            process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? handle.close()
            throw FixtureError("could not start \(resolved) \(arguments.joined(separator: " ")): \(error)")
        }
        self.process = process
        processIdentifier = process.processIdentifier
    }

    deinit {
        stop()
    }

    /// True while the process has not exited.
    public var isRunning: Bool {
        // Foundation may learn of the end late (see `Shell.exitedStatus`); the kernel knows.
        process.isRunning && Shell.exitedStatus(of: processIdentifier) == nil
    }

    /// Everything the process wrote to stdout and stderr so far.
    public func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The last `lines` lines of the log.
    public func logTail(lines: Int = 30) -> String {
        log().split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Polls a TCP connect to 127.0.0.1:`port` until it succeeds. Fails, with the log tail,
    /// when the process exits first or `timeout` passes.
    public func waitForPort(_ port: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if FreePort.isAccepting(port: port) { return }
            if !isRunning {
                throw FixtureError(
                    "\(name) exited (status \(process.terminationStatus)) before listening on 127.0.0.1:\(port); log tail:\n\(logTail())"
                )
            }
            if ContinuousClock.now >= deadline {
                throw FixtureError(
                    "\(name) did not listen on 127.0.0.1:\(port) within \(timeout); log tail:\n\(logTail())"
                )
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Sends SIGTERM, waits up to 0.5 s, then SIGKILL; reaps the process. Safe to call more than once.
    /// (Children of the test runner may inherit a mask that blocks SIGTERM, so the wait is short.)
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now.advanced(by: .milliseconds(500))
            while process.isRunning && ContinuousClock.now < deadline {
                usleep(10_000)
            }
            if process.isRunning {
                kill(processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
        try? logHandle.close()
    }
}
