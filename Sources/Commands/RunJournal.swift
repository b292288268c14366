import Artifacts

/// The one way a run's outputs become final. The artifact, the report and the attestation each
/// go into place through the run's `CommitJournal`. If anything fails after an artifact was
/// committed (a report that no longer fits, a directory whose permissions changed since
/// `WriteTargets` checked it, a later bottle of a set), every output is taken back and whatever
/// it replaced put back: exit 1 or 3 means no artifact was written. The reports of a run that
/// committed no artifact (a refused or insufficient verdict) stay: they record why.
enum RunJournal {
    /// Runs `body` (the run and its reports) with a fresh journal, which SIGINT and SIGTERM also
    /// undo (see `InterruptHandler`).
    static func run<T>(_ body: (CommitJournal) async throws -> T) async throws -> T {
        let journal = CommitJournal()
        InterruptHandler.journal = journal
        defer { InterruptHandler.journal = nil }
        do {
            let value = try await body(journal)
            journal.keep()
            return value
        } catch {
            guard journal.holdsArtifact else {
                journal.keep()
                throw error
            }
            journal.undo()
            guard let failure = error as? ToolFailure else { throw error }
            throw ToolFailure(failure.code, "\(failure.message)\nWhat this run had already put in place was taken back.")
        }
    }
}
