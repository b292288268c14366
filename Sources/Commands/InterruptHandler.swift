import Artifacts
import Foundation

/// On SIGINT or SIGTERM: take back whatever the run already put in place (`RunJournal`), remove
/// the unfinished output's temporary sibling, say what happened, exit. Verified blobs and partial
/// downloads stay in the cache, so running the command again resumes.
enum InterruptHandler {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
    /// The running command's journal, undone on a signal.
    nonisolated(unsafe) static var journal: CommitJournal?

    /// `staged`: a finished archive waiting to be copied to stdout, removed too.
    static func install(output: String?, staged: String? = nil) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                journal?.undo()
                if let output { removeTemporarySiblings(of: output) }
                if let staged { unlink(staged) }
                let name = signalNumber == SIGINT ? "interrupted" : "terminated"
                let written = staged != nil ? " The archive on stdout is incomplete or missing." : output.map { " Nothing was written to \($0)." } ?? ""
                Terminal.write("\n3tofu: \(name).\(written) Downloads so far are kept in the cache; run the same command again to resume.\n")
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Writers build `.<name>.3tofu-tmp-<random>` next to the output and rename it when complete.
    static func removeTemporarySiblings(of output: String) {
        let url = URL(fileURLWithPath: output)
        let directory = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + ".3tofu-tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where entry.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: directory + "/" + entry)
        }
    }
}
