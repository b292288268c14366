import Agreement
import Artifacts
import Configuration
import Coordinator
import Foundation
import OCI
import Registry
import Report

/// Turns command-line options into a validated request, runs it, and maps the outcome to an exit code.
struct RunSetup {
    var reference: ImageReference
    var platform: Platform
    var vantages: [VantageSpec]
    var policy: Policy
    var insecureRegistries: Set<String>
    var credentials: RegistryCredentials
    var storeRoot: String
    var json: Bool
    var reportPath: String?
    var reportOutputs: ReportOutputs
    var vantageTimeout: Double
    var shared: VantageSetup
    var history: HistoryAccess

    init(
        reference text: String, platform platformText: String?, common: CommonOptions, login: LoginOptions,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        reference = try ImageReference(parsing: text)
        platform = try platformText.map { try Platform(parsing: $0) } ?? Platform.host
        shared = try VantageSetup(common: common, environment: environment)
        vantages = shared.vantages
        policy = shared.policy
        reportPath = shared.reportPath
        vantageTimeout = shared.vantageTimeout
        insecureRegistries = shared.insecureRegistries
        storeRoot = shared.storeRoot
        json = shared.json
        reportOutputs = try ReportOutputs(common: common)
        credentials = try Logins.resolve(login, names: [reference.name], environment: environment)
        history = try HistoryAccess(common: common, environment: environment)
    }

    /// The earlier runs of this image, when the policy's time rules need them.
    func loadHistory() throws -> TimeRules.History? {
        try history.load(.init(kind: .image, reference: reference.description, platform: platform.description), policy: policy)
    }

    /// Runs the request with progress on a terminal, prints the agreement summary on stderr, and
    /// throws a `ToolFailure` with the right exit code unless the policy was met.
    /// `outputShownAs` replaces the output's path in the report (`-` for stdout). The report goes
    /// into place through `journal`, as the image did (`RunJournal`).
    func execute(_ request: PullRequest, journal: CommitJournal, outputShownAs: String? = nil) async throws -> PullResult {
        let progress = Terminal.stderrIsTerminal && !json ? ProgressPrinter() : nil
        var sink: PullEventSink?
        if let progress {
            sink = { event in progress.handle(event) }
        }
        var result: PullResult
        do {
            result = try await Coordinator.run(request, events: sink)
            if let outputShownAs { result.written?.path = outputShownAs }
        } catch {
            progress?.finish()
            throw error
        }
        progress?.finish()
        // The verdict is shown first: a report that still cannot be written (its path was checked
        // before the run) must not hide what the vantages said. The image is then taken back (`RunJournal`).
        if !json || result.decision.verdict != .agree {
            Terminal.write(SummaryTable.render(result))
        }
        let report = history.record(ReportBuilder.make(result, toolVersion: ThreeTofu.version, createdAt: request.history?.now ?? Date()), history: request.history)
        if reportOutputs.wanted {
            try reportOutputs.write(report, journal: journal)
        }
        if let failure = SubjectOutcome.failure(SummaryTable.rows(result), decision: result.decision, policyName: request.policy.name) {
            throw failure
        }
        return result
    }
}
