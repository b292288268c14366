import OCI

/// Blocks until the layer with this digest and size is in the store, or returns when it never
/// will be (the writer then reports it missing); throws to abandon the output.
package typealias LayerAvailability = @Sendable (_ digest: Digest, _ size: Int64) throws -> Void

/// An output built completely at a temporary path next to its destination, not yet in place.
/// Lets the coordinator assemble an archive while layers are still being downloaded and checked,
/// and decide afterwards: `commit()` renames it into place, `discard()` removes it. One of the
/// two must be called, once.
public struct StagedArtifact: Sendable {
    private let commitAction: @Sendable (CommitJournal?) throws -> WriteResult
    private let discardAction: @Sendable () -> Void

    init(commit: @escaping @Sendable (CommitJournal?) throws -> WriteResult, discard: @escaping @Sendable () -> Void) {
        commitAction = commit
        discardAction = discard
    }

    /// Moves the output into place and returns what was written. With `journal`, the run can
    /// still take it back (`CommitJournal.undo()`) until it keeps it.
    public func commit(journal: CommitJournal? = nil) throws -> WriteResult {
        try commitAction(journal)
    }

    /// Removes the temporary output; the destination is left as it was.
    public func discard() {
        discardAction()
    }
}
