import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds an output at a temporary sibling path (`.<name>.3tofu-tmp-<pid>-<random>` in the same
/// directory) and renames it into place only once complete; on any error the temporary is
/// removed and the output path is left as it was. A temporary left by a process that was
/// killed (its pid no longer runs) is removed by the next write to the same path.
enum AtomicOutput {
    static func temporarySibling(of path: String) -> String {
        let directory = FileSystem.directoryName(path)
        return "\(directory)/.\(FileSystem.baseName(path)).3tofu-tmp-\(getpid())-\(FileSystem.randomSuffix())"
    }

    /// Removes temporaries of `path` whose writer is gone (killed before it could clean up).
    static func removeAbandonedSiblings(of path: String) {
        let directory = FileSystem.directoryName(path)
        let prefix = ".\(FileSystem.baseName(path)).3tofu-tmp-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            if kill(pid, 0) != 0, errno == ESRCH {
                FileSystem.removeTree("\(directory)/\(entry)")
            }
        }
    }

    static func checkParent(of path: String) throws {
        let directory = FileSystem.directoryName(path)
        guard FileSystem.isDirectory(directory) else {
            throw ArtifactsError(.io, "cannot write \(path): directory \(directory) does not exist; create it first")
        }
    }

    /// Writes a file: `body` gets a file descriptor open on the temporary. A file already at
    /// `path` is replaced atomically; a directory there is refused.
    static func writeFile<T>(at path: String, _ body: (Int32, String) throws -> T) throws -> T {
        let staged = try stageFile(at: path, body)
        try commitFile(staged.temporary, to: path)
        return staged.value
    }

    /// Refuses a path a file cannot be written at: empty, a directory, or in a missing directory.
    static func checkFileTarget(_ path: String) throws {
        guard !path.isEmpty else {
            throw ArtifactsError(.io, "the output path is empty; give a file name")
        }
        if FileSystem.isDirectory(path) {
            throw ArtifactsError(.outputExists, "\(path) is a directory; give a file path for this archive format (or use --format oci for a directory)")
        }
        try checkParent(of: path)
    }

    /// The first half of `writeFile`: builds and fsyncs the temporary, leaves it there.
    static func stageFile<T>(at path: String, _ body: (Int32, String) throws -> T) throws -> (temporary: String, value: T) {
        try checkFileTarget(path)
        removeAbandonedSiblings(of: path)
        let temporary = temporarySibling(of: path)
        let fd = try FileSystem.createExclusive(temporary)
        do {
            let result = try body(fd, temporary)
            try FileSystem.sync(fd, path: temporary)
            close(fd)
            return (temporary, result)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    /// The second half of `writeFile`: renames a staged temporary into place (removing it if that fails).
    static func commitFile(_ temporary: String, to path: String) throws {
        do {
            try FileSystem.move(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
        FileSystem.syncDirectory(FileSystem.directoryName(path))
    }

    /// Removes a staged temporary that will not be committed.
    static func discardFile(_ temporary: String) {
        unlink(temporary)
    }

    /// Builds a new directory with `body` (which gets the temporary directory's path) and moves
    /// it to `path`, which must not exist or be an empty directory.
    static func writeDirectory<T>(at path: String, _ body: (String) throws -> T) throws -> T {
        try checkParent(of: path)
        removeAbandonedSiblings(of: path)
        let temporary = temporarySibling(of: path)
        do {
            guard mkdir(temporary, 0o755) == 0 else {
                throw FileSystem.ioError("create directory", temporary)
            }
            let result = try body(temporary)
            FileSystem.syncDirectory(temporary)
            try FileSystem.move(temporary, to: path)
            FileSystem.syncDirectory(FileSystem.directoryName(path))
            return result
        } catch {
            FileSystem.removeTree(temporary)
            throw error
        }
    }
}
