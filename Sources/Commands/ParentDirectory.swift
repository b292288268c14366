import Foundation

/// Creates the directory a new file goes in, as `mkdir -p` with mode 0700 would, so that a first
/// `keygen --output ~/.config/3tofu/report-key` or `vantages init` works on a fresh machine.
enum ParentDirectory {
    /// Returns the directory it created, nil when it was there already.
    @discardableResult
    static func ensure(for path: String, what: String) throws -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ToolFailure(.badInput, "cannot create the directory \(directory) for \(what): \((error as NSError).localizedDescription); choose another path")
        }
        return directory
    }
}
