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
    /// `path` is replaced atomically; a directory there is refused. With `journal`, the file can
    /// be taken back (and what it replaced put back) until the run keeps it.
    static func writeFile<T>(at path: String, journal: CommitJournal? = nil, _ body: (Int32, String) throws -> T) throws -> T {
        let staged = try stageFile(at: path, body)
        try commitFile(staged.temporary, to: path, journal: journal)
        return staged.value
    }

    /// Refuses a path a file cannot be written at: empty, a directory, a device, FIFO or socket, or
    /// in a missing directory.
    static func checkFileTarget(_ path: String) throws {
        guard !path.isEmpty else {
            throw ArtifactsError(.io, "the output path is empty; give a file name")
        }
        if FileSystem.isDirectory(path) {
            throw ArtifactsError(.outputExists, "\(path) is a directory; give a file path for this archive format (or use --format oci for a directory)")
        }
        try checkNotSpecial(path)
        try checkParent(of: path)
    }

    /// Refuses a path that holds something other than a regular file, a symbolic link or nothing:
    /// the rename that puts an output in place would replace a device node, FIFO or socket with a file.
    static func checkNotSpecial(_ path: String) throws {
        guard let kind = specialKind(path) else { return }
        throw ArtifactsError(
            .notRegularFile,
            "\(path) is \(kind), not a regular file; 3tofu writes only regular files and never replaces a device, FIFO or socket. "
                + "Give the path of a new or regular file")
    }

    /// "a character device", "a FIFO (named pipe)"… for what `lstat` finds at `path`; nil for
    /// nothing, a regular file, a directory or a symbolic link (a rename replaces the link, not its target).
    static func specialKind(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFREG, S_IFDIR, S_IFLNK: return nil
        default: return "neither a regular file nor a directory"
        }
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

    /// The second half of `writeFile`: renames a staged temporary into place (removing it if that
    /// fails), through `journal` when there is one.
    static func commitFile(_ temporary: String, to path: String, journal: CommitJournal? = nil) throws {
        do {
            // Checked before anything was downloaded, and again here: a FIFO made since is not replaced either.
            try checkNotSpecial(path)
            try CommitJournal.move(temporary, to: path, journal: journal)
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
    /// it to `path`, which must not exist or be an empty directory (through `journal`, when there is one).
    static func writeDirectory<T>(at path: String, journal: CommitJournal? = nil, _ body: (String) throws -> T) throws -> T {
        try checkParent(of: path)
        removeAbandonedSiblings(of: path)
        let temporary = temporarySibling(of: path)
        do {
            guard mkdir(temporary, 0o755) == 0 else {
                throw FileSystem.ioError("create directory", temporary)
            }
            let result = try body(temporary)
            FileSystem.syncDirectory(temporary)
            try CommitJournal.move(temporary, to: path, journal: journal)
            FileSystem.syncDirectory(FileSystem.directoryName(path))
            return result
        } catch {
            FileSystem.removeTree(temporary)
            throw error
        }
    }
}
