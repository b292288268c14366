import Foundation

/// Runs helper commands (openssl, sha256sum, curl) to completion.
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs `command` with `/bin/sh -c`; throws unless it exits 0.
    static func shell(_ command: String) throws -> String {
        let result = try run("/bin/sh", ["-c", command])
        guard result.status == 0 else { throw Failure(description: "`\(command)` exited with \(result.status)") }
        return result.stdout
    }

    /// `sha256sum` of a file, computed by coreutils rather than by code under test.
    static func sha256(ofFile path: String) throws -> String {
        let output = try shell("sha256sum '\(path)'")
        return String(output.prefix(64))
    }

    static func sha256(of data: Data, in directory: TemporaryFolder) throws -> String {
        let path = directory.path("sha-\(UUID().uuidString)")
        try data.write(to: URL(fileURLWithPath: path))
        return try sha256(ofFile: path)
    }
}
