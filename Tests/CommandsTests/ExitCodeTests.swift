import Agreement
import Artifacts
@testable import Commands
import Configuration
import Coordinator
import DirectIO
import Foundation
import OCI
import Registry
import Remote
import Report
import Testing
import Transport

/// Every way a command can end, and the exit code DESIGN.md gives it: 0 agreed and written,
/// 1 disagreement, 2 usage, configuration or bad input, 3 policy not met for any other reason.
@Suite struct ExitCodeTests {
    struct Failing: Sendable, CustomTestStringConvertible {
        var what: String
        var error: any Error
        var code: Int32
        var testDescription: String { what }
    }

    struct Unknown: Error {}

    /// One error of every module's type (and of each kind that decides the code), with its exit code.
    static let errors: [Failing] = [
        Failing(what: "a vantages file mistake", error: ConfigurationError(file: "v.toml", line: 3, field: "kind", message: "unknown kind"), code: 2),
        Failing(what: "a reference that does not parse", error: OCIError(.invalidReference, "'a b' is not a reference"), code: 2),
        Failing(what: "an image the registry does not have", error: RegistryError(.notFound, "manifest unknown"), code: 2),
        Failing(what: "a registry that cannot be reached", error: RegistryError(.network, "connection refused"), code: 3),
        Failing(what: "bytes that miss their digest", error: RegistryError(.digestMismatch, "asked for sha256:a, got sha256:b"), code: 1),
        Failing(what: "a transport timeout", error: TransportError(kind: .timeout, url: "https://r.test/v2/", detail: "timed out"), code: 3),
        Failing(what: "a proxy setting that cannot work", error: TransportError(configuration: "proxy 'x' is not a URL"), code: 2),
        Failing(what: "an SSH identity file that cannot be read", error: SSHError(.configuration, "fix identity in the vantages file"), code: 2),
        Failing(what: "an SSH host that cannot be reached", error: SSHError(.connect, "connection refused"), code: 3),
        Failing(what: "an SSH host key that changed", error: SSHError(.hostKeyChanged, "the host key changed"), code: 3),
        Failing(what: "an SSH login refused", error: SSHError(.authentication, "refused"), code: 3),
        Failing(what: "a remote agent that breaks its protocol", error: SSHError(.remote, "the 3tofu agent's reply head is not JSON"), code: 3),
        Failing(what: "an output that is a FIFO", error: ArtifactsError(.notRegularFile, "out is a FIFO"), code: 2),
        Failing(what: "a cache that others can write", error: ArtifactsError(.unsafeCache, "world-writable"), code: 2),
        Failing(what: "a write that fails", error: ArtifactsError(.io, "no space left"), code: 3),
        Failing(what: "a report that cannot be read", error: ReportError("not a report"), code: 2),
        Failing(what: "a disk read that fails", error: DirectIOError(code: EIO), code: 3),
        Failing(what: "a run's bad input", error: CoordinatorError(.badInput, "no vantages configured"), code: 2),
        Failing(what: "a run's download failing", error: CoordinatorError(.notMet, "could not download"), code: 3),
        Failing(what: "a vantage's bad input", error: VantageFailure(message: "no such formula", isBadInput: true), code: 2),
        Failing(what: "a vantage's tampering", error: VantageFailure(message: "other bytes", isBadInput: false, isTampering: true), code: 1),
        Failing(what: "a cancellation", error: CancellationError(), code: 3),
        Failing(what: "an error of no known type", error: Unknown(), code: 3),
        Failing(what: "a command's own failure", error: ToolFailure(.disagreement, "refused"), code: 1),
    ]

    @Test(arguments: errors)
    func everyErrorHasTheContractsExitCode(_ failing: Failing) {
        let failure = ToolFailure(failing.error)
        #expect(failure.code.rawValue == failing.code)
        #expect(!failure.message.isEmpty)
    }

    @Test func theMessageIsTheErrorsOwn() {
        #expect(ToolFailure(SSHError(.configuration, "the SSH identity file /k cannot be read")).message == "the SSH identity file /k cannot be read")
        #expect(ToolFailure(ConfigurationError(file: "v.toml", line: 3, field: "kind", message: "unknown")).message == "v.toml:3: field 'kind': unknown")
    }

    /// A vantage fails the same way a whole run does: the same mapping makes both.
    @Test(arguments: errors.filter { !($0.error is ToolFailure) })
    func aVantageFailureMeansWhatTheRunFailureMeans(_ failing: Failing) {
        let vantage = VantageFailure(failing.error)
        #expect(vantage.isBadInput == (failing.code == 2))
        #expect(vantage.isTampering == (failing.code == 1))
    }

    struct Ending: Sendable, CustomTestStringConvertible {
        var what: String
        var verdict: Agreement.Verdict
        var failures: [VantageFailure?]
        var code: Int32
        var testDescription: String { what }
    }

    static let verdicts: [Ending] = [
        Ending(what: "agreement", verdict: .agree, failures: [nil, nil, nil], code: 0),
        Ending(what: "dissent", verdict: .disagree, failures: [nil, nil, nil], code: 1),
        Ending(what: "every vantage failed on bad input", verdict: .insufficient,
               failures: [VantageFailure(message: "no identity", isBadInput: true), VantageFailure(message: "no identity", isBadInput: true)], code: 2),
        Ending(what: "bad input on one vantage, the network on another", verdict: .insufficient,
               failures: [VantageFailure(message: "no identity", isBadInput: true), VantageFailure(message: "timeout", isBadInput: false)], code: 3),
        Ending(what: "too few answers", verdict: .insufficient, failures: [nil, VantageFailure(message: "timeout", isBadInput: false)], code: 3),
    ]

    @Test(arguments: verdicts)
    func everyVerdictHasTheContractsExitCode(_ ending: Ending) {
        let rows = ending.failures.enumerated().map { SubjectOutcome.Row(name: "v\($0.offset)", route: "direct", failure: $0.element) }
        let decision = Decision<ObservedFile>(verdict: ending.verdict, agreed: nil, comparisons: [], dissenters: [], reason: "Because.")
        let failure = SubjectOutcome.failure(rows, decision: decision, policyName: "strict")
        #expect((failure?.code.rawValue ?? 0) == ending.code)
    }

    @Test func usageErrorsAreExit2AndHelpIs0() async {
        #expect(await CommandRunner.run(arguments: ["pull", "--no-such-option"]) == 2)
        #expect(await CommandRunner.run(arguments: ["no-such-command"]) == 2)
        #expect(await CommandRunner.run(arguments: ["--help"]) == 0)
        #expect(await CommandRunner.run(arguments: []) == 0, "the root command with no subcommand prints its help")
    }

    @Test func aReportThatCannotBeReadIsExit2() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("3tofu-no-report-\(UUID().uuidString).json").path
        #expect(await CommandRunner.run(arguments: ["report", "verify", missing]) == 2)
    }
}
