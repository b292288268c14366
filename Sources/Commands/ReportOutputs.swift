import Artifacts
import Foundation
import Report

/// What becomes of a run's agreement report: written to --report (signed with --sign-key) and,
/// with --attestation, wrapped in an in-toto Statement. The key is read before any vantage is asked,
/// so a bad key fails fast with exit 2.
struct ReportOutputs {
    var reportPath: String?
    var attestationPath: String?
    var signingKey: ReportSigningKey?

    init(common: CommonOptions) throws {
        reportPath = common.report
        attestationPath = common.attestation
        if let keyPath = common.signKey {
            guard common.report != nil || common.attestation != nil else {
                throw ToolFailure(.badInput, "--sign-key signs the report, but no report is written; add --report FILE (or --attestation FILE)")
            }
            do {
                signingKey = try ReportSigningKey.load(path: keyPath)
            } catch let error as ReportError {
                throw ToolFailure(.badInput, error.message)
            }
        }
    }

    var wanted: Bool { reportPath != nil || attestationPath != nil }

    /// Signs `report` when a key was given, then writes the report and the attestation asked for,
    /// each whole, through the run's `journal` (so a run that fails later takes them back too).
    /// The attestation is written only when the report vouches for something (verdict agree).
    func write(_ report: AgreementReport, journal: CommitJournal) throws {
        do {
            var report = report
            if let signingKey { report = try ReportSigner.sign(report, key: signingKey) }
            if let reportPath {
                try Self.checkAgain(reportPath, option: "--report")
                try SmallFileWriter.write(try ReportFile.encode(report), to: reportPath, mode: 0o644, journal: journal)
            }
            if let attestationPath {
                if let statement = InTotoStatement(report: report) {
                    try Self.checkAgain(attestationPath, option: "--attestation")
                    try SmallFileWriter.write(try statement.encoded(), to: attestationPath, mode: 0o644, journal: journal)
                } else {
                    Terminal.note("No attestation written to \(attestationPath): the verdict is \(report.verdict.rawValue), so there is nothing to attest.")
                }
            }
        } catch let failure as ToolFailure {
            throw failure
        } catch {
            throw ToolFailure(.notMet, "\(error)")
        }
    }

    /// The check `WriteTargets` made before the run, made again just before the rename: a FIFO or
    /// device put at the path since is refused, never replaced.
    private static func checkAgain(_ path: String, option: String) throws {
        do {
            try ArtifactWriter.checkFileDestination(path)
        } catch let error as ArtifactsError {
            throw ToolFailure(.notMet, "\(option): \(error.message)")
        }
    }
}
