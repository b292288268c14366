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

    init(reference text: String, platform platformText: String?, common: CommonOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        reference = try ImageReference(parsing: text)
        platform = try platformText.map { try Platform(parsing: $0) } ?? Platform.host
        if let path = VantagesFile.locate(explicit: common.vantages, environment: environment) {
            vantages = try VantagesFile.load(path: path, environment: environment).vantages
        } else {
            vantages = [VantageSpec.thisMachine]
        }
        policy = try PolicyFile.load(common.policy)
        reportPath = common.report
        reportOutputs = try ReportOutputs(common: common)
        vantageTimeout = common.vantageTimeout
        insecureRegistries = Set(common.insecureRegistry.map { $0.lowercased() })
        do {
            credentials = try RegistryCredentials.load(environment: environment)
        } catch let error as RegistryError {
            throw ToolFailure(.badInput, error.message)
        }
        storeRoot = ContentStore.defaultRoot(environment: environment)
        json = common.json
        if let caCert = common.caCert, !FileManager.default.isReadableFile(atPath: caCert) {
            throw ToolFailure(.badInput, "cannot read --ca-cert \(caCert); give a PEM file of CA certificates")
        }
    }

    /// Runs the request with progress on a terminal, prints the agreement summary on stderr, and
    /// throws a `ToolFailure` with the right exit code unless the policy was met.
    func execute(_ request: PullRequest) async throws -> PullResult {
        let progress = Terminal.stderrIsTerminal && !json ? ProgressPrinter() : nil
        var sink: PullEventSink?
        if let progress {
            sink = { event in progress.handle(event) }
        }
        let result: PullResult
        do {
            result = try await Coordinator.run(request, events: sink)
        } catch let error as CoordinatorError {
            progress?.finish()
            throw ToolFailure(error.kind == .badInput ? .badInput : .notMet, error.message)
        }
        progress?.finish()
        if reportOutputs.wanted {
            try reportOutputs.write(ReportBuilder.make(result, toolVersion: ThreeTofu.version))
        }
        if !json || result.decision.verdict != .agree {
            Terminal.write(SummaryTable.render(result, color: Terminal.stderrIsTerminal))
        }
        switch result.decision.verdict {
        case .agree:
            return result
        case .disagree:
            throw ToolFailure(.disagreement, "refused: \(result.decision.reason) Nothing was written.")
        case .insufficient:
            let failures = result.vantages.compactMap(\.failure)
            if !failures.isEmpty, failures.count == result.vantages.count, failures.allSatisfy(\.isBadInput) {
                throw ToolFailure(.badInput, failures[0].message)
            }
            throw ToolFailure(.notMet, "policy '\(request.policy.name)' not met: \(result.decision.reason) Nothing was written.")
        }
    }
}
