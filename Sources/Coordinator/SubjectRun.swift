import Agreement
import Configuration
import Foundation
import Registry
import Report
import Transport

/// One vantage's part in a `fetch` or `bottle` run: what it saw (kept even when its own sources
/// contradicted each other, so the report shows it), or why it gave no observation.
public struct SubjectRun<Subject: Observable>: Sendable {
    public var spec: VantageSpec
    public var route: String
    public var observed: Subject?
    /// Set when the vantage did not answer, or answered with sources that contradict each
    /// other or bytes that miss their digest (`isTampering`: counted as dissent).
    public var failure: VantageFailure?
    /// How the vantage's first answer reached it (the file, or the bottle's index).
    public var evidence: AgreementReport.Evidence?
    public var seconds: Double

    public init(spec: VantageSpec, route: String, observed: Subject?, failure: VantageFailure?, evidence: AgreementReport.Evidence?, seconds: Double) {
        self.spec = spec
        self.route = route
        self.observed = observed
        self.failure = failure
        self.evidence = evidence
        self.seconds = seconds
    }

    /// What `Agreement` is given for this vantage.
    public var observation: Observation<Subject> {
        let outcome: Observation<Subject>.Outcome
        if let failure, failure.isTampering {
            outcome = .tampered(failure.message)
        } else if let observed, failure == nil {
            outcome = .observed(observed)
        } else {
            outcome = .failed(failure?.message ?? "no answer")
        }
        return Observation(vantage: spec.name, kind: spec.kind.rawValue, route: route, outcome: outcome)
    }

    /// This vantage's entry in the agreement report; `wrap` is the subject's report case (`ObservedSubject.file`…).
    public func reportEntry(_ wrap: (Subject) -> ObservedSubject) -> AgreementReport.VantageEntry {
        let status: AgreementReport.VantageEntry.Status = failure?.isTampering == true ? .tampered : (failure == nil ? .ok : .error)
        return AgreementReport.VantageEntry(
            name: spec.name, kind: spec.kind.rawValue, route: route, status: status, error: failure?.message,
            observed: observed.map(wrap), evidence: evidence, seconds: (seconds * 1000).rounded() / 1000)
    }
}

/// What a vantage's work returns: the subject, the evidence of how it came, and any
/// contradiction among its own sources.
struct VantageAnswer<Subject: Observable>: Sendable {
    var subject: Subject
    var evidence: AgreementReport.Evidence?
    var inconsistency: String?
}

/// Runs the same work on every vantage concurrently, each within its timeout; one failing or
/// slow vantage neither cancels nor delays the others.
enum VantageFanOut {
    static func run<Subject: Observable>(
        _ clients: [Coordinator.VantageClient], timeout: Double,
        _ work: @escaping @Sendable (Coordinator.VantageClient) async throws -> VantageAnswer<Subject>
    ) async -> [SubjectRun<Subject>] {
        await withTaskGroup(of: (Int, SubjectRun<Subject>).self) { group in
            for (index, vantage) in clients.enumerated() {
                group.addTask {
                    let start = Date()
                    do {
                        let answer = try await withTimeout(timeout, vantage: vantage.spec.name) { try await work(vantage) }
                        let failure = answer.inconsistency.map { VantageFailure(message: $0, isBadInput: false, isTampering: true) }
                        return (index, SubjectRun(
                            spec: vantage.spec, route: vantage.route, observed: answer.subject, failure: failure, evidence: answer.evidence,
                            seconds: Date().timeIntervalSince(start)))
                    } catch {
                        return (index, SubjectRun(
                            spec: vantage.spec, route: vantage.route, observed: nil, failure: Coordinator.failure(from: error), evidence: nil,
                            seconds: Date().timeIntervalSince(start)))
                    }
                }
            }
            var runs: [(Int, SubjectRun<Subject>)] = []
            for await run in group { runs.append(run) }
            return runs.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// `Agreement.decide`, with comparisons that also show what refused vantages saw (a vantage whose
    /// own sources contradict each other still answered; the report should show its values).
    static func decide<Subject: Observable>(_ runs: [SubjectRun<Subject>], policy: Policy, usedInsecureRegistry: Bool) -> Decision<Subject> {
        var decision = Agreement.decide(runs.map(\.observation), policy: policy, usedInsecureRegistry: usedInsecureRegistry)
        let seen = runs.compactMap { run in
            run.observed.map { Observation(vantage: run.spec.name, kind: run.spec.kind.rawValue, route: run.route, outcome: .observed($0)) }
        }
        if decision.verdict == .disagree { decision.comparisons = Agreement.compare(seen) }
        return decision
    }

    /// Evidence for a plain download: the transport's view of the last hop and the redirect chain.
    static func evidence(_ seen: TransportEvidence, chain: [String]) -> AgreementReport.Evidence {
        AgreementReport.Evidence(
            remoteIP: seen.remoteIP, effectiveURL: (seen.effectiveURL ?? chain.last).map(RegistryClient.redact),
            urlChain: chain.map(RegistryClient.redact), tlsCertificateSHA256: seen.certificateSHA256,
            httpVersion: seen.httpVersion, dockerContentDigest: nil,
            timings: .init(
                nameLookup: seen.timings.nameLookup, connect: seen.timings.connect, tlsHandshake: seen.timings.tlsHandshake,
                firstByte: seen.timings.firstByte, total: seen.timings.total),
            rateLimit: seen.rateLimit)
    }

    /// Answering vantages, this machine's first (usually the fastest route), as download sources.
    static func preferredFirst<Subject>(_ runs: [SubjectRun<Subject>], clients: [Coordinator.VantageClient]) -> [Coordinator.VantageClient] {
        let answering = Set(runs.filter { $0.failure == nil && $0.observed != nil }.map(\.spec.name))
        let sources = clients.filter { answering.contains($0.spec.name) }
        return sources.filter { $0.spec.kind == .local } + sources.filter { $0.spec.kind != .local }
    }
}
