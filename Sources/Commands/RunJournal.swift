import Artifacts

/// The one way a run's outputs become final. The artifact, the report and the attestation each
/// go into place through the run's `CommitJournal`; only when the whole run succeeds are they
/// kept. If anything fails after the artifact was committed (a report that no longer fits, a
/// directory whose permissions changed since `WriteTargets` checked it, a later bottle of a set),
/// every output is taken back and whatever it replaced put back: exit 3 means nothing was written.
enum RunJournal {
    /// Runs `body` (the run and its reports) with a fresh journal, which SIGINT and SIGTERM also
    /// undo (see `InterruptHandler`); keeps what it committed only if `body` returns.
    static func run<T>(_ body: (CommitJournal) async throws -> T) async throws -> T {
        let journal = CommitJournal()
        InterruptHandler.journal = journal
        defer { InterruptHandler.journal = nil }
        do {
            let value = try await body(journal)
            journal.keep()
            return value
        } catch {
            let wroteSomething = !journal.isEmpty
            journal.undo()
            guard wroteSomething, let failure = error as? ToolFailure else { throw error }
            throw ToolFailure(failure.code, "\(failure.message)\nWhat this run had already put in place was taken back.")
        }
    }
}
