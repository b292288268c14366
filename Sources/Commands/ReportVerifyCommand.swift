import ArgumentParser
import Foundation
import OCI
import Report

/// `3tofu report verify`: re-check a report far from where it was made, and the artifact it vouches for.
struct ReportVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a report's signature, that its verdict follows from what it records, and the artifact in hand.",
        discussion: HelpText.wrap("""
            Checks, and prints each check that held (✓) or did not (✗):
              signature    made by --key over the report's canonical form (docs/REPORT-SIGNING.md). \
            A signed report checked without --key is refused: the key inside a report proves nothing \
            on its own, since whoever edits the report can re-sign it. Pass --trust-embedded-key to \
            accept that key anyway (it then shows only that the report is unchanged since it was signed).
              consistency  the verdict, agreed digests and comparisons are what the vantages' \
            recorded observations give under the recorded policy parameters.
              artifact     with --artifact: the file's SHA-256 (an OCI layout's index.json) is the \
            recorded one; for docker-archive, OCI layout and oci-archive every blob matches its digest, \
            and index.json (and a docker-archive's manifest.json) names the agreed manifest, config and layers.

            What is read is bounded: the report must be a regular file of at most 16 MiB; --artifact must \
            be a regular file or a directory (a FIFO, device or socket is refused at once, never waited on); \
            inside an OCI layout every file is opened without following symbolic links and must be a regular \
            file, so a link out of the layout, a FIFO or a device is reported as a failed check, never read. \
            Blobs are streamed through the hash, never held whole.

            EXIT STATUS
              0  every check held
              1  a check failed: the report or artifact cannot be trusted as it is
              2  bad input: the report, key or artifact cannot be read

            EXAMPLES
              3tofu report verify alpine.json --key report-key.pub --artifact alpine.tar
              3tofu report verify alpine.json --trust-embedded-key
            """)
    )

    @Argument(help: ArgumentHelp("A report written by --report FILE.", valueName: "report"))
    var report: String

    @Option(name: .long, help: ArgumentHelp("The signer's public key (KEYFILE.pub from `3tofu keygen`).", valueName: "public-key"))
    var key: String?

    @Option(name: .long, help: ArgumentHelp("The artifact the report vouches for: the file, or the OCI layout directory.", valueName: "path"))
    var artifact: String?

    @Flag(name: .long, help: "Accept the public key inside the report when no --key is given.")
    var trustEmbeddedKey = false

    @Flag(name: .long, help: "Print the result as JSON on stdout.")
    var json = false

    func run() throws {
        let agreement: AgreementReport
        let trustedKey: ReportPublicKey?
        let signature: ReportSigner.Check
        do {
            // One bounded read: a FIFO or device is refused without waiting, and so is a report past the cap.
            let data = try ReportFile.readData(report)
            agreement = try ReportFile.decode(data, path: report)
            trustedKey = try key.map { try ReportPublicKey.load(path: $0) }
            signature = try ReportSigner.check(reportJSON: data, trustedKey: trustedKey)
        } catch let error as ReportError {
            throw ToolFailure(.badInput, error.message)
        }

        var result = VerificationResult()
        switch signature {
        case .unsigned:
            if key != nil {
                result.failed.append("the report is not signed, but --key was given: it cannot be shown to come from that key's holder")
            } else {
                result.notes.append("the report is not signed: anyone could have written or changed it")
            }
        case .valid(let signer, trusted: true):
            result.passed.append("signed by the given key \(signer.fingerprint): the signature covers the whole report, so nothing in it changed since it was signed")
        case .valid(let signer, trusted: false):
            if trustEmbeddedKey {
                result.passed.append("the signature by the key inside the report (\(signer.fingerprint)) holds")
                result.notes.append("--trust-embedded-key: that key was not checked against anything; this shows only that the report is unchanged since someone holding it signed")
            } else {
                result.failed.append(
                    "the report is signed by key \(signer.fingerprint), which only the report itself vouches for; give the signer's public key with --key KEYFILE.pub, or pass --trust-embedded-key to accept it")
            }
        case .invalid(let reason):
            result.failed.append("signature: \(reason)")
        }
        result.merge(ReportConsistency.check(agreement))
        if let artifact {
            result.merge(ArtifactVerifier.check(artifact, against: agreement))
        } else if agreement.artifact != nil {
            result.notes.append("no --artifact given: the artifact itself was not checked")
        }

        if json {
            try printJSON(Summary(verified: result.succeeded, passed: result.passed, failed: result.failed, notes: result.notes))
        } else {
            Terminal.out(Self.render(result, report: report, agreement: agreement), terminator: "")
        }
        if !result.succeeded {
            throw ToolFailure(.disagreement, "\(report) did not verify: \(result.failed.count) check\(result.failed.count == 1 ? "" : "s") failed")
        }
    }

    /// What the report claims, in one line, so that the checks below say what they were about.
    static func checked(_ report: AgreementReport) -> String {
        let vantages = report.vantages.map { "\($0.name) \($0.status.rawValue)" }.joined(separator: ", ")
        var line = "checked: \(report.subject.kind.rawValue) \(report.subject.reference)"
        if let platform = report.subject.platform { line += " (\(platform))" }
        line += ", verdict \(report.verdict.rawValue.uppercased()) under policy '\(report.policy.name)', \(report.vantages.count) vantage\(report.vantages.count == 1 ? "" : "s") (\(vantages))"
        if let artifact = report.artifact { line += ", artifact \(artifact.format) sha256:\(artifact.sha256)" }
        line += ", made \(report.createdAt)"
        return line
    }

    struct Summary: Encodable {
        var verified: Bool
        var passed: [String]
        var failed: [String]
        var notes: [String]
    }

    static func render(_ result: VerificationResult, report: String, agreement: AgreementReport? = nil) -> String {
        var out = agreement.map { TerminalText.sanitized(Self.checked($0), oneLine: true) + "\n" } ?? ""
        for line in result.passed { out += "✓ \(line)\n" }
        for line in result.failed { out += "✗ \(line)\n" }
        for line in result.notes { out += "note: \(line)\n" }
        out += result.succeeded ? "VERIFIED: \(report)\n" : "NOT VERIFIED: \(report)\n"
        return out
    }
}
