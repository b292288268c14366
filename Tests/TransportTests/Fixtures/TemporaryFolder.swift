import Foundation

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TemporaryFolder: Sendable {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "transport-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { root + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
