import Foundation

/// Another process holding a file's lock: flock(1) takes `flock -x` on `path` and keeps it until
/// `release()` (its stdin ends). `init` returns once flock says it holds the lock, so a test
/// needs no sleep to know it is held.
public final class FlockHolder: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    /// What flock printed once it held the lock ("held\n"), for the test to check.
    public let said: String

    public init(path: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        process.arguments = ["-x", path, "sh", "-c", "echo held; read x"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        said = String(decoding: output.fileHandleForReading.readData(ofLength: 5), as: UTF8.self)
    }

    /// Ends flock and waits for it: the lock is free afterwards.
    public func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { release() }
}
