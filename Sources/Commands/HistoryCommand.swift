import Agreement
import ArgumentParser
import Foundation
import History
import OCI
import Registry
import Report

/// `3tofu history`: the timeline of what the vantages agreed on for a reference, and the sharing
/// of runs between machines as signed reports (`import`, `export`).
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show, import or export the observation history (time as a vantage).",
        discussion: """
            The history ($THREETOFU_HISTORY, else $XDG_STATE_HOME/3tofu/history.sqlite, else \
            ~/.local/state/3tofu/history.sqlite; --history FILE) records every verification: pull, resolve, \
            bundles, bottle, fetch and watch, with what each vantage observed.

            EXAMPLES
              3tofu history alpine:3.20
              3tofu history alpine:3.20 --json
              3tofu history import watcher-a/*.json --key team.pub
              3tofu history export alpine:3.20 --output-dir shared/ --sign-key me.key
            """,
        subcommands: [HistoryShowCommand.self, HistoryImportCommand.self, HistoryExportCommand.self],
        defaultSubcommand: HistoryShowCommand.self
    )
}

/// Where the history is: the two options every history subcommand takes.
struct HistoryLocation: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The history file (default $THREETOFU_HISTORY, then $XDG_STATE_HOME/3tofu/history.sqlite).", valueName: "file"))
    var history: String?

    func open() throws -> HistoryStore {
        try HistoryAccess(history: history, noHistory: false).open()
    }

    /// The reference as the history keys it: an image reference normalised as pulls record it, or a URL without its query.
    static func key(_ text: String) throws -> String {
        if text.hasPrefix("https://") || text.hasPrefix("http://") { return RegistryClient.redact(text) }
        return try ImageReference(parsing: text).description
    }
}

struct HistoryShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "The timeline per digest: first and last seen, distinct UTC days, vantages, and every move of the tag.")

    @Argument(help: ArgumentHelp("An image reference (alpine:3.20) or a fetched URL.", valueName: "reference"))
    var reference: String

    @Flag(name: .long, help: "Print the timeline as JSON on stdout.")
    var json = false

    @OptionGroup var location: HistoryLocation

    struct PlatformTimeline: Encodable {
        var platform: String
        var runs: Int
        var notAgreed: Int
        var timeline: HistoryTimeline
    }

    struct Output: Encodable {
        var reference: String
        var platforms: [PlatformTimeline]
    }

    func run() throws {
        let key = try HistoryLocation.key(reference)
        // Reading never creates: with no history file yet, there is simply nothing recorded.
        let path = try HistoryAccess(history: location.history, noHistory: false).path ?? ""
        let runs = FileManager.default.fileExists(atPath: path) ? try location.open().runs(reference: key) : []
        var platforms: [PlatformTimeline] = []
        for platform in Array(Set(runs.map(\.platform))).sorted() {
            let mine = runs.filter { $0.platform == platform }
            let agreed = mine.compactMap { run in
                run.agreedDigest.map { TimeRules.PastRun(time: run.time, digest: $0, vantages: run.report.vantages.filter { $0.status == .ok }.map(\.name).sorted(), source: run.source) }
            }
            platforms.append(PlatformTimeline(platform: platform, runs: mine.count, notAgreed: mine.count - agreed.count, timeline: HistoryTimeline(runs: agreed)))
        }
        if json {
            try printJSON(Output(reference: key, platforms: platforms))
            return
        }
        guard !platforms.isEmpty else {
            Terminal.out("\(key): no run recorded in \(location.history ?? "the history"); record some with `3tofu watch \(reference)`")
            return
        }
        var text = ""
        for entry in platforms {
            text += "\(key)" + (entry.platform.isEmpty ? "" : " (\(entry.platform))") + ": \(entry.runs) run\(entry.runs == 1 ? "" : "s")"
            text += entry.notAgreed > 0 ? ", \(entry.notAgreed) without agreement\n" : "\n"
            for line in entry.timeline.lines { text += "  " + line + "\n" }
        }
        Terminal.out(text, terminator: "")
    }
}

struct HistoryImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add signed reports from other machines to the history, each marked with the key that signed it.",
        discussion: """
            Every report must be signed by --key (as `3tofu report verify --key` checks) and consistent \
            (its verdict follows from what its vantages observed); otherwise nothing is imported and the \
            command exits 1. A report imported before is skipped.
            """)

    @Argument(help: ArgumentHelp("Signed reports (from --report FILE --sign-key KEY, or `history export`).", valueName: "report"))
    var reports: [String]

    @Option(name: .long, help: ArgumentHelp("The signer's public key (KEYFILE.pub from `3tofu keygen`).", valueName: "public-key"))
    var key: String

    @OptionGroup var location: HistoryLocation

    func run() throws {
        guard !reports.isEmpty else { throw ToolFailure(.badInput, "give the reports to import") }
        let trusted: ReportPublicKey
        var checked: [AgreementReport] = []
        do {
            trusted = try ReportPublicKey.load(path: key)
            for path in reports {
                let data = try ReportFile.readData(path)
                let report = try ReportFile.decode(data, path: path)
                switch try ReportSigner.check(reportJSON: data, trustedKey: trusted) {
                case .valid(_, trusted: true):
                    break
                case .valid(let signer, trusted: false):
                    throw ToolFailure(.disagreement, "\(path): signed by key \(signer.fingerprint), not by --key \(trusted.fingerprint); nothing was imported")
                case .unsigned:
                    throw ToolFailure(.disagreement, "\(path): not signed, so it cannot be shown to come from --key's holder; nothing was imported")
                case .invalid(let reason):
                    throw ToolFailure(.disagreement, "\(path): the signature does not hold (\(reason)); nothing was imported")
                }
                let consistency = ReportConsistency.check(report)
                guard consistency.failed.isEmpty else {
                    throw ToolFailure(.disagreement, "\(path): the report does not follow from what it records (\(consistency.failed.joined(separator: "; "))); nothing was imported")
                }
                checked.append(report)
            }
        } catch let error as ReportError {
            throw ToolFailure(.badInput, error.message)
        }
        let store = try location.open()
        var added = 0
        for report in checked {
            do {
                if try store.record(report, source: "import: \(trusted.fingerprint)") { added += 1 }
            } catch let error as HistoryError {
                throw ToolFailure(.notMet, error.description)
            }
        }
        Terminal.note("Imported \(added) of \(checked.count) reports signed by \(trusted.fingerprint)" + (added < checked.count ? " (\(checked.count - added) were already in the history)." : "."))
    }
}

struct HistoryExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the recorded runs for a reference as signed reports, for `history import` on another machine.")

    @Argument(help: ArgumentHelp("An image reference (alpine:3.20) or a fetched URL.", valueName: "reference"))
    var reference: String

    @Option(name: .long, help: ArgumentHelp("A directory to write the reports into (created when absent).", valueName: "dir"))
    var outputDir: String

    @Option(name: .long, help: ArgumentHelp("Sign each report with this Ed25519 key (from `3tofu keygen`).", valueName: "keyfile"))
    var signKey: String

    @Flag(name: .long, help: "Also the runs imported from other machines (default: only this machine's own).")
    var includeImported = false

    @OptionGroup var location: HistoryLocation

    func run() throws {
        let key: ReportSigningKey
        do {
            key = try ReportSigningKey.load(path: signKey)
        } catch let error as ReportError {
            throw ToolFailure(.badInput, error.message)
        }
        let subject = try HistoryLocation.key(reference)
        let runs = try location.open().runs(reference: subject).filter { includeImported || $0.source == "local" }
        do {
            try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        } catch {
            throw ToolFailure(.badInput, "cannot create --output-dir \(outputDir): \(error.localizedDescription)")
        }
        for (index, run) in runs.enumerated() {
            var report = run.report
            report.signature = nil
            let name = String(format: "%04d-", index + 1) + run.time.replacingOccurrences(of: ":", with: "") + ".json"
            do {
                try ReportFile.write(try ReportSigner.sign(report, key: key), to: (outputDir as NSString).appendingPathComponent(name))
            } catch {
                throw ToolFailure(.notMet, "cannot write \(name) in \(outputDir): \(error)")
            }
        }
        Terminal.note("Wrote \(runs.count) signed report\(runs.count == 1 ? "" : "s") for \(subject) to \(outputDir).")
    }
}
