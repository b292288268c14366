import Agreement
import Configuration
import Foundation
import Report

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
        self.evidence = evidence ?? failure?.evidence
        self.seconds = seconds
    }

    /// What `Agreement` is given for this vantage: a vantage whose own sources contradict each
    /// other is refused, and what it saw is still compared.
    public var observation: Observation<Subject> {
        let outcome: Observation<Subject>.Outcome
        switch (observed, failure) {
        case (let observed?, nil):
            outcome = .observed(observed)
        case (let observed?, let failure?) where failure.isTampering:
            outcome = .contradicted(observed, failure.message)
        case (nil, let failure?) where failure.isTampering:
            outcome = .tampered(failure.message)
        default:
            outcome = .failed(failure?.message ?? "no answer")
        }
        return Observation(vantage: spec.name, kind: spec.kind.rawValue, route: route, outcome: outcome)
    }
}

extension SubjectRun: VantageOutcome {}

/// What a vantage's work returns: the subject, the evidence of how it came, and any
/// contradiction among its own sources.
struct VantageAnswer<Subject: Observable>: Sendable {
    var subject: Subject
    var evidence: AgreementReport.Evidence?
    var inconsistency: String?
}
