import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything one run put in place (its artifact, then its report and attestation), each with
/// what it replaced, until the run knows whether it succeeded: `keep()` then drops what was
/// replaced; `undo()` takes every output back, newest first, and puts back what each replaced.
/// So a run that fails after its artifact was committed (the report could not be written, the
/// run was interrupted) leaves every path as it found it, as exit 3 promises.
///
/// A replaced file stays as a hard link at a hidden sibling (`.<name>.3tofu-tmp-<pid>-<random>`,
/// which the next write to the path removes if this process died), so the rename that puts the
/// new file in place is still atomic. Where a hard link cannot be made, and for the empty
/// directory an OCI layout replaces, the old entry is renamed aside first.
public final class CommitJournal: @unchecked Sendable {
    fileprivate enum Entry {
        /// Nothing was at `path`; undo removes what was put there.
        case created(path: String)
        /// `backup` holds what was at `path`; undo puts it back.
        case replaced(path: String, backup: String)
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private var closed = false
    private var outputCommitted = false

    public init() {}

    /// Whether an artifact (not only a report or another side file) went into place through
    /// this journal: a run that fails after that must be undone; the reports of a run that wrote
    /// no artifact are the record of why, and stay.
    public var holdsArtifact: Bool {
        lock.lock()
        defer { lock.unlock() }
        return outputCommitted
    }

    /// Renames the finished `temporary` (a file or a directory) onto `path`, keeping what was
    /// there. Throws, leaving `path` as it was, when the rename fails or the journal was undone.
    /// `artifact`: false for a report or another side file (see `holdsArtifact`).
    public func replace(_ temporary: String, at path: String, artifact: Bool = false) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else {
            throw ArtifactsError(.io, "not writing \(path): the run is being abandoned and everything it wrote taken back")
        }
        guard FileSystem.exists(path) else {
            try FileSystem.move(temporary, to: path)
            entries.append(.created(path: path))
            outputCommitted = outputCommitted || artifact
            return
        }
        let backup = AtomicOutput.temporarySibling(of: path)
        let linked = !FileSystem.isDirectoryNoFollow(path) && link(path, backup) == 0
        if !linked {
            try FileSystem.move(path, to: backup)
        }
        do {
            try FileSystem.move(temporary, to: path)
        } catch {
            if linked { unlink(backup) } else { rename(backup, path) }
            throw error
        }
        entries.append(.replaced(path: path, backup: backup))
        outputCommitted = outputCommitted || artifact
    }

    /// Keeps every output: removes what they replaced.
    public func keep() {
        lock.lock()
        defer { lock.unlock() }
        for case .replaced(_, let backup) in entries {
            FileSystem.removeTree(backup)
        }
        entries = []
        outputCommitted = false
    }

    /// Takes every output back, newest first, and puts back what each replaced; later commits
    /// through this journal are refused. Best effort: it runs on the way out of a failed run.
    public func undo() {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        for entry in entries.reversed() {
            switch entry {
            case .created(let path):
                FileSystem.removeTree(path)
            case .replaced(let path, let backup):
                if FileSystem.isDirectoryNoFollow(path) || FileSystem.isDirectoryNoFollow(backup) {
                    FileSystem.removeTree(path)
                }
                rename(backup, path)
            }
            FileSystem.syncDirectory(FileSystem.directoryName(entry.path))
        }
        entries = []
        outputCommitted = false
    }

}

extension CommitJournal.Entry {
    var path: String {
        switch self {
        case .created(let path), .replaced(let path, _): path
        }
    }
}

extension CommitJournal {
    /// Puts `temporary` at `path` through `journal` when there is one, else by a plain rename.
    static func move(_ temporary: String, to path: String, journal: CommitJournal?) throws {
        if let journal {
            try journal.replace(temporary, at: path, artifact: true)
        } else {
            try FileSystem.move(temporary, to: path)
        }
    }
}
