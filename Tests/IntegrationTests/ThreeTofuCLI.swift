import Foundation
import TestSupport

/// Runs the built `3tofu` executable as a user would, with its own environment.
enum ThreeTofuCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
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
    static func run(_ arguments: [String], environment: [String: String] = [:], home: String) throws -> Result {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": home, "THREETOFU_CACHE": home + "/cache"]
        env.merge(environment) { _, new in new }
        let output = try Shell.run([try executable] + arguments, env: env, timeout: .seconds(600))
        return Result(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }
}
