import ArgumentParser
import Coordinator
import Foundation
import Registry
import Report

/// `3tofu fetch`: every vantage downloads a plain file and hashes it; the file is written only
/// when all digests and sizes (and the published checksum, when asked) agree.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Verify a plain file (a release tarball, an installer) across vantages and write it only on agreement.",
        discussion: HelpText.wrap("""
            Every vantage downloads URL through its own route, following redirects (each vantage's chain \
            is in the report), and hashes what it received; this machine's vantage keeps its copy in the \
            cache as it streams, the others keep nothing. With --checksums, every vantage also reads the \
            published checksum file (sha256sum or `shasum --tag` lines) and its line for the file's name \
            must match the bytes that vantage received. --output appears only when every answering \
            vantage agrees on SHA-256 and size, written from the cached bytes after hashing them again. \
            stdout gets `<sha256>  <output>`, as sha256sum prints it.

            EXAMPLES
              3tofu fetch https://example.org/tool-1.0.tar.gz --output tool-1.0.tar.gz
              3tofu fetch https://example.org/tool-1.0.tar.gz --checksums https://example.org/SHA256SUMS --output tool.tar.gz
            """)
    )

    @Argument(help: ArgumentHelp("http:// or https:// URL of the file.", valueName: "url"))
    var url: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the file.", valueName: "file"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("A published checksum file (e.g. SHA256SUMS) every vantage also compares.", valueName: "url"))
    var checksums: String?

    @Option(
        name: .customLong("max-size"),
        help: ArgumentHelp("The most bytes the file may have (K, M, G, T suffixes; default 16G); every vantage stops a download past it.", valueName: "size"))
    var maxSize: String?

    @OptionGroup var common: CommonOptions

    func run() async throws {
        var maximumSize = FetchRequest.defaultMaximumSize
        if let maxSize {
            guard let parsed = FetchRequest.parseSize(maxSize), parsed > 0 else {
                throw ToolFailure(.badInput, "--max-size '\(maxSize)' is not a size; give bytes or a number with K, M, G or T (e.g. 4G)")
            }
            maximumSize = parsed
        }
        let setup = try VantageSetup(common: common)
        let reportOutputs = try ReportOutputs(common: common)
        let history = try HistoryAccess(common: common)
        // Every path this run writes, checked before any vantage is asked.
        var targets = WriteTargets()
        targets.add("--output", output)
        targets.addReports(reportOutputs)
        try targets.check()
        try setup.checkVantages()
        InterruptHandler.install(output: output)
        // The file and its report are kept only if the whole run succeeds.
        try await RunJournal.run { journal in
            var request = FetchRequest(
                url: url, checksumsURL: checksums, vantages: setup.vantages, policy: setup.policy, caCertificatePath: setup.caCert,
                storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, outputPath: output, maximumSize: maximumSize)
            request.journal = journal
            request.history = try history.load(.init(kind: .file, reference: RegistryClient.redact(url), platform: nil), policy: setup.policy)
            let result = try await FetchCoordinator.run(request)
            if !setup.json || result.decision.verdict != .agree {
                Terminal.write(SubjectOutcome.render(
                    result.vantages, decision: result.decision, headline: ["sha256", "size", "published sha256"]))
            }
            // After the verdict, so a report that fails (its path was checked up front) cannot hide it.
            let report = history.record(
                ReportBuilder.make(result, toolVersion: ThreeTofu.version, createdAt: request.history?.now ?? Date()), history: request.history)
            if reportOutputs.wanted {
                try reportOutputs.write(report, journal: journal)
            }
            if let failure = SubjectOutcome.failure(result.vantages, decision: result.decision, policyName: setup.policy.name) {
                throw failure
            }
            guard let written = result.written, let agreed = result.decision.agreed else {
                throw ToolFailure(.notMet, "nothing was written")
            }
            if setup.json {
                try printJSON(FetchSummary(
                    url: url, verdict: result.decision.verdict.rawValue, output: written.path, sha256: written.sha256, size: agreed.size,
                    finalURLs: Dictionary(uniqueKeysWithValues: result.vantages.compactMap { run in run.observed.map { (run.spec.name, $0.finalURL) } })))
            } else {
                Terminal.note("Wrote \(written.path) (\(agreed.size) bytes), verified by \(result.answeringCount) vantages.")
                Terminal.out("\(written.sha256)  \(written.path)")
            }
        }
    }
}

struct FetchSummary: Encodable {
    var url: String
    var verdict: String
    var output: String
    var sha256: String
    var size: Int64
    /// Vantage name → the URL that finally answered it.
    var finalURLs: [String: String]
}
