import Foundation

/// A fresh directory under the system temporary directory, deleted by `remove()` or when released.
public final class TemporaryDirectory: Sendable {
    public let path: String

    /// Creates `<tmp>/3tofu-<prefix>-<random>`.
    public init(prefix: String = "fixture") throws {
        let base = FileManager.default.temporaryDirectory.path
        let candidate = "\(base)/3tofu-\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        do {
            try FileManager.default.createDirectory(atPath: candidate, withIntermediateDirectories: true)
        } catch {
            throw FixtureError("could not create temporary directory \(candidate): \(error); check that \(base) is writable")
        }
        path = candidate
    }

    /// The absolute path of `name` inside this directory.
    public func file(_ name: String) -> String {
        "\(path)/\(name)"
    }

    /// Deletes the directory and everything in it; safe to call more than once.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit {
        remove()
    }
}
