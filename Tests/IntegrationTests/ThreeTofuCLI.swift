import Foundation
import TestSupport

/// Runs the built `3tofu` executable as a user would, with its own environment.
enum ThreeTofuCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// stdout byte for byte (an archive written with `--output -`).
        var stdoutData = Data()
    }

    static var executable: String {
        get throws {
            let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let candidates = [
                here.appendingPathComponent("3tofu").path,
                here.deletingLastPathComponent().appendingPathComponent("3tofu").path,
                root.appendingPathComponent(".build/debug/3tofu").path,
            ]
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw FixtureError("the 3tofu executable was not built; run `swift build --build-tests` (looked in \(candidates))")
            }
            return found
        }
    }

    /// `environment` is the whole environment (plus PATH); HOME and the cache default to a fresh temp dir.
    /// `timeout`: a command that should fail at once gets a short one, so a hang fails the test.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], home: String, workingDirectory: String? = nil, timeout: Duration = .seconds(600),
        stdin: Data? = nil
    ) throws -> Result {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home, "THREETOFU_CACHE": home + "/cache"]
        env.merge(environment) { _, new in new }
        let output = try Shell.runCapturing([try executable] + arguments, env: env, stdin: stdin, workingDirectory: workingDirectory, timeout: timeout)
        return Result(status: output.status, stdout: output.stdout, stderr: output.stderr, stdoutData: output.stdoutData)
    }
}
