import Agreement
import Artifacts
import Configuration
import Coordinator
import Foundation
import Report

/// `--json`: ONE document on stdout for every outcome of pull, resolve, fetch, bottle and bundles
/// (exit 0, 1, 2 or 3), described by schemas/result-v1.schema.json. The command records what it
/// learnt as it goes (each subject's vantages and verdict, what it wrote, its own summary);
/// `CommandRunner` prints the document once the exit code is known, also when the run ended in an
/// error before any vantage was asked.
final class ResultDocument: @unchecked Sendable {
    static let schema = "3tofu.result/v1"

    /// The document of the command running in this task, when it was given --json.
    @TaskLocal static var current: ResultDocument?

    let command: String
    private let lock = NSLock()
    private var subjects: [[String: Any]] = []
    private var written: [[String: Any]] = []
    private var details: [String: Any] = [:]

    init(command: String) {
        self.command = command
    }

    /// One vantage as the document shows it.
    struct Vantage {
        var name: String
        var kind: String
        var route: String
        var failure: VantageFailure?
        var seconds: Double
        /// The chain a failed TLS verification was shown (shown, not trusted), as the report has it.
        var shownNotTrusted: [AgreementReport.Evidence.UntrustedCertificate]? = nil
        /// Why a failed TLS verification's chain could not be recorded (an SSH remote without openssl).
        var shownNotRecorded: String? = nil
    }

    /// Records one verified subject (an image, a file, a bottle): its verdict, reason and every
    /// vantage's status, error and observed values (the compared items, by name).
    func addSubject<Subject>(kind: String, reference: String, platform: String? = nil, vantages: [Vantage], decision: Decision<Subject>) {
        let entries: [[String: Any]] = vantages.map { vantage in
            var observed: [String: Any] = [:]
            for comparison in decision.comparisons {
                if let value = comparison.values[vantage.name] { observed[comparison.item] = value }
            }
            let status = vantage.failure.map { $0.isTampering ? "refused" : "error" } ?? "ok"
            var entry: [String: Any] = [
                "name": vantage.name, "kind": vantage.kind, "route": vantage.route, "status": status,
                "error": vantage.failure.map { $0.message as Any } ?? NSNull(),
                "seconds": (vantage.seconds * 1000).rounded() / 1000, "observed": observed,
            ]
            if let shown = vantage.shownNotTrusted, !shown.isEmpty { entry["tlsCertificatesShownNotTrusted"] = Self.jsonObject(shown) }
            if let reason = vantage.shownNotRecorded { entry["tlsCertificatesNotRecorded"] = reason }
            return entry
        }
        var subject: [String: Any] = [
            "kind": kind, "reference": reference, "verdict": decision.verdict.rawValue, "reason": decision.reason,
            "dissenters": decision.dissenters, "vantages": entries,
        ]
        if let platform { subject["platform"] = platform }
        lock.withLock { subjects.append(subject) }
    }

    /// `value` as JSONSerialization objects (nil values left out, as the report leaves them out).
    static func jsonObject<T: Encodable>(_ value: T) -> Any {
        guard let data = try? JSONEncoder().encode(value), let object = try? JSONSerialization.jsonObject(with: data) else { return NSNull() }
        return object
    }

    /// Records an output put in place (taken back again if the run then fails: see `rendered`).
    func addWritten(path: String, format: String, sha256: String?, manifestDigest: String? = nil, convertedFrom: String? = nil) {
        var entry: [String: Any] = ["path": path, "format": format, "sha256": sha256.map { $0 as Any } ?? NSNull()]
        if let manifestDigest { entry["manifestDigest"] = manifestDigest }
        if let convertedFrom { entry["convertedFrom"] = convertedFrom }
        lock.withLock { written.append(entry) }
    }

    /// The command's own summary (what `--json` printed before this document existed); its keys
    /// join the document's top level, where the document's own keys win.
    func setDetails<T: Encodable>(_ summary: T) {
        guard let data = try? JSONEncoder().encode(summary), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
        lock.withLock { details = object }
    }

    /// The document for a run that ended with `exitCode` (and, unless 0, `error`).
    func rendered(exitCode: Int32, error: String?) -> [String: Any] {
        lock.withLock {
            var document = exitCode == 0 ? details : [:]
            let verdicts = subjects.compactMap { $0["verdict"] as? String }
            // The worst verdict of all subjects: one dissent refuses the set.
            let verdict = verdicts.contains("disagree") ? "disagree" : verdicts.contains("insufficient") ? "insufficient" : verdicts.first
            var reason = error ?? ""
            if subjects.count == 1, let only = subjects[0]["reason"] as? String {
                reason = only
            } else if error == nil, let verdict {
                reason = "\(subjects.count) subjects, verdict \(verdict)"
            }
            document["schema"] = Self.schema
            document["command"] = command
            document["exitCode"] = Int(exitCode)
            document["verdict"] = verdict ?? NSNull()
            document["reason"] = reason
            document["error"] = error ?? NSNull()
            document["subjects"] = subjects
            if subjects.count == 1 { document["vantages"] = subjects[0]["vantages"] }
            // A failed run takes back what it had put in place (`RunJournal`): nothing was written.
            document["written"] = exitCode == 0 ? written : []
            return document
        }
    }

    /// Prints the document on stdout (sorted keys, safe for a terminal).
    func print(exitCode: Int32, error: String?) {
        let document = rendered(exitCode: exitCode, error: error)
        guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            return
        }
        Terminal.outJSON(String(decoding: data, as: UTF8.self))
    }

    /// The document's command for a command line that did not parse: the subcommand if it is one
    /// that prints a document, when --json was given; otherwise nil.
    static func commandName(unparsed arguments: [String]) -> String? {
        guard arguments.contains("--json"), let first = arguments.first else { return nil }
        // `--output -`: stdout is the archive's, and a refused run leaves it empty.
        for (index, argument) in arguments.enumerated().dropLast() where (argument == "--output" || argument == "-o") && arguments[index + 1] == "-" {
            return nil
        }
        if arguments.contains("--output=-") { return nil }
        switch first {
        case "pull": return arguments.contains("--images-from") ? "bundle" : "pull"
        case "resolve", "fetch", "bottle": return first
        default: return nil
        }
    }
}

/// A command that prints a `ResultDocument` with --json, and obeys -q / -v.
protocol ResultCommand {
    var common: CommonOptions { get }
    /// The document's `command` for this invocation.
    var resultName: String { get }
    /// Whether the document goes to stdout: not when stdout carries something else (`--output -`).
    var printsDocument: Bool { get }
}

extension ResultCommand {
    var printsDocument: Bool { common.json }
}

extension ResultDocument.Vantage {
    init<Subject, Payload>(_ run: SubjectRun<Subject, Payload>) {
        self.init(
            name: run.spec.name, kind: run.spec.kind.rawValue, route: run.route, failure: run.failure, seconds: run.seconds,
            shownNotTrusted: run.evidence?.tlsCertificatesShownNotTrusted, shownNotRecorded: run.evidence?.tlsCertificatesNotRecorded)
    }
}

extension ResultDocument {
    /// An image's vantages and verdict, and what was written.
    func add(_ result: PullResult) {
        addSubject(
            kind: "image", reference: result.request.reference.description, platform: result.request.platform.description,
            vantages: result.vantages.map(ResultDocument.Vantage.init), decision: result.decision)
    }

    func addWritten(_ written: WriteResult) {
        addWritten(
            path: written.path, format: written.format.rawValue, sha256: written.sha256.isEmpty ? nil : written.sha256,
            manifestDigest: written.manifestDigestWritten.string, convertedFrom: written.convertedFrom?.string)
    }
}
