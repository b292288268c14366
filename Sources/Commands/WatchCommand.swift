import Agreement
import ArgumentParser
import Coordinator
import Foundation
import OCI
import Registry
import Report

/// `3tofu watch`: resolve (no layer, no file kept) through every vantage and record what each saw
/// in the history, so that a later run can require agreement across days. Meant for a timer.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Resolve images or files on every vantage and record what each saw in the history (for a daily timer).",
        discussion: """
            Nothing is written but the history (and --report files): images are resolved as `3tofu resolve` \
            does, files are downloaded and hashed by every vantage as `3tofu fetch` does, and each run is \
            recorded with what every vantage observed. The policy's time rules are not applied here: watch \
            records the days a later `pull --policy three-days` counts.

            Run it daily from a timer: examples/3tofu-watch.service and examples/3tofu-watch.timer (systemd, \
            with jitter), or a cron line such as
              17 4 * * * /usr/local/bin/3tofu watch --images-from $HOME/.config/3tofu/watch.txt

            EXIT STATUS
              0  every subject agreed (and was recorded)
              1  the vantages disagreed on some subject
              2  bad input
              3  some subject could not be verified (too few answers, network failure) or the history could not be written

            EXAMPLES
              3tofu watch alpine:3.20 python:3.12-slim
              3tofu watch --images-from images.txt
              3tofu watch --url https://example.org/tool-1.2.tar.gz
            """
    )

    @Argument(help: ArgumentHelp("Image references to resolve and record.", valueName: "reference"))
    var references: [String] = []

    @Option(name: .long, help: ArgumentHelp("Also every image listed in this file (one reference per line, optionally a platform).", valueName: "file"))
    var imagesFrom: String?

    @Option(name: .long, help: ArgumentHelp("A plain file to download and hash on every vantage (repeatable); nothing is kept.", valueName: "url"))
    var url: [String] = []

    @Option(name: .long, help: ArgumentHelp("Platform for the images (default: this machine's).", valueName: "os/arch[/variant]"))
    var platform: String?

    @Option(name: .long, help: ArgumentHelp("Every `brew \"name\"` line of this Brewfile: its bottle for --tag, resolved (not downloaded).", valueName: "file"))
    var brewfile: String?

    @Option(name: .long, help: ArgumentHelp("With --brewfile: the bottle tag, e.g. arm64_sequoia or x86_64_linux.", valueName: "bottle-tag"))
    var tag: String?

    @Option(name: .long, help: ArgumentHelp("With --brewfile: registry and repository prefix holding the bottles.", valueName: "host/prefix"))
    var registry = "ghcr.io/homebrew/core"

    @Option(name: .long, help: ArgumentHelp("With --brewfile: formula API base URL.", valueName: "url"))
    var formulaApi = "https://formulae.brew.sh/api/formula"

    @OptionGroup var common: CommonOptions

    func run() async throws {
        guard !references.isEmpty || imagesFrom != nil || !url.isEmpty || brewfile != nil else {
            throw ToolFailure(.badInput, "give what to watch: image REFERENCEs, --images-from FILE, --url URL or --brewfile FILE (e.g. `3tofu watch alpine:3.20`)")
        }
        var formulae: [String] = []
        if let brewfile {
            guard let text = try? String(contentsOfFile: brewfile, encoding: .utf8) else {
                throw ToolFailure(.badInput, "cannot read --brewfile \(brewfile); check the path")
            }
            formulae = Brewfile.formulae(in: text)
            guard !formulae.isEmpty else { throw ToolFailure(.badInput, "\(brewfile) has no `brew \"name\"` lines") }
            guard let tag, !tag.isEmpty, tag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw ToolFailure(.badInput, "--brewfile needs --tag BOTTLE_TAG (Homebrew names them like arm64_sequoia, sonoma, x86_64_linux)")
            }
        }
        guard common.report == nil, common.attestation == nil, common.signKey == nil else {
            throw ToolFailure(.badInput, "watch writes no report files; what it saw is in the history (`3tofu history REFERENCE`, `3tofu history export`)")
        }
        let setup = try VantageSetup(common: common)
        let history = try HistoryAccess(common: common)
        guard history.path != nil else { throw ToolFailure(.badInput, "watch records in the history; it cannot run with --no-history") }
        // Recording, not deciding with the past: the policy's time rules have no say here.
        let policy = setup.policy.with(TimeRules())
        let defaultPlatform = try platform.map { try Platform(parsing: $0) } ?? Platform.host
        var images: [(ImageReference, Platform)] = []
        for text in references {
            images.append((try ImageReference(parsing: text), defaultPlatform))
        }
        if let imagesFrom {
            images += try ImagesFile.load(path: imagesFrom).entries.map { ($0.reference, $0.platform ?? defaultPlatform) }
        }
        // Opened once up front: a history that cannot be written is known before any vantage is asked.
        _ = try history.open()

        var codes: [ToolFailure.Code?] = []
        for (reference, platform) in images {
            let request = PullRequest(
                reference: reference, platform: platform, vantages: setup.vantages, policy: policy, insecureRegistries: setup.insecureRegistries,
                caCertificatePath: setup.caCert, credentials: setup.credentials, storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout,
                output: nil)
            do {
                let result = try await Coordinator.run(request)
                history.record(ReportBuilder.make(result, toolVersion: ThreeTofu.version), history: nil)
                codes.append(report(reference.description, result.decision, failure: SubjectOutcome.failure(SummaryTable.rows(result), decision: result.decision, policyName: policy.name)))
            } catch {
                let failure = ToolFailure(error)
                Terminal.error("\(reference.description): \(failure.message)")
                codes.append(failure.code)
            }
        }
        for address in url {
            let request = FetchRequest(
                url: address, checksumsURL: nil, vantages: setup.vantages, policy: policy, caCertificatePath: setup.caCert, storeRoot: setup.storeRoot,
                vantageTimeout: setup.vantageTimeout, outputPath: nil)
            let shown = RegistryClient.redact(address)
            do {
                let result = try await FetchCoordinator.run(request)
                history.record(ReportBuilder.make(result, toolVersion: ThreeTofu.version), history: nil)
                codes.append(report(shown, result.decision, failure: SubjectOutcome.failure(result.vantages, decision: result.decision, policyName: policy.name)))
            } catch {
                let failure = ToolFailure(error)
                Terminal.error("\(shown): \(failure.message)")
                codes.append(failure.code)
            }
        }
        if !formulae.isEmpty, let tag {
            let (host, prefix) = try BottleCommand.splitRegistry(registry)
            let request = BottleRequest(
                formulae: formulae, tag: tag, registry: host, repositoryPrefix: prefix,
                formulaAPI: formulaApi.hasSuffix("/") ? String(formulaApi.dropLast()) : formulaApi,
                vantages: setup.vantages, policy: policy, insecureRegistries: setup.insecureRegistries, caCertificatePath: setup.caCert,
                credentials: setup.credentials, storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, outputDirectory: nil)
            do {
                for result in try await BottleCoordinator.run(request) {
                    history.record(ReportBuilder.make(result, request: request, toolVersion: ThreeTofu.version), history: nil)
                    codes.append(
                        report("\(result.argument) (\(tag))", result.decision, failure: SubjectOutcome.failure(result.vantages, decision: result.decision, policyName: policy.name)))
                }
            } catch {
                let failure = ToolFailure(error)
                Terminal.error("--brewfile: \(failure.message)")
                codes.append(failure.code)
            }
        }
        let failed = codes.compactMap { $0 }
        if failed.contains(.disagreement) { throw ToolFailure(.disagreement, "the vantages disagreed on \(failed.filter { $0 == .disagreement }.count) of \(codes.count) watched subjects; see above") }
        if let code = failed.first { throw ToolFailure(code, "\(failed.count) of \(codes.count) watched subjects were not verified; see above") }
    }

    /// One line per subject on stdout: what was recorded.
    private func report<Subject: Recordable>(_ subject: String, _ decision: Decision<Subject>, failure: ToolFailure?) -> ToolFailure.Code? {
        let digest = decision.agreed.map { " " + $0.historyDigest } ?? ""
        if common.json {
            try? printJSON(["subject": subject, "verdict": decision.verdict.rawValue, "digest": decision.agreed?.historyDigest ?? ""])
        } else {
            Terminal.out("\(TerminalText.sanitized(subject, oneLine: true)): \(decision.verdict.rawValue)\(digest)")
        }
        if let failure { Terminal.error("\(TerminalText.sanitized(subject, oneLine: true)): \(failure.message)") }
        return failure?.code
    }
}
