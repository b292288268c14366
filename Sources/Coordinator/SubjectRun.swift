import Agreement
import Configuration
import Foundation
import Registry
import Report

/// One vantage's part in a run of any subject (an image, a file, a bottle): what it saw (kept
/// even when its own sources contradicted each other, so the report shows it) and what it
/// brought for the delivery (`payload`: an image's resolution), or why it gave no observation.
public struct SubjectRun<Subject: Observable, Payload: Sendable>: Sendable {
    public var spec: VantageSpec
    public var route: String
    public var observed: Subject?
    /// What the delivery needs beyond the observation; nil when the vantage gave none.
    public var payload: Payload?
    /// Set when the vantage did not answer, or answered with sources that contradict each
    /// other or bytes that miss their digest (`isTampering`: counted as dissent).
    public var failure: VantageFailure?
    /// How the vantage's first answer reached it (the top manifest, the file, the bottle's index).
    public var evidence: AgreementReport.Evidence?
    public var seconds: Double

    public init(
        spec: VantageSpec, route: String, observed: Subject?, payload: Payload? = nil, failure: VantageFailure?, evidence: AgreementReport.Evidence?,
        seconds: Double
    ) {
        self.spec = spec
        self.route = route
        self.observed = observed
        self.payload = payload
        self.failure = failure
        self.evidence = evidence ?? failure?.evidence
        self.seconds = seconds
    }

    /// The vantage answered and nothing it said contradicts itself: it can be a download source.
    public var answered: Bool { failure == nil && observed != nil }

    /// The vantage failed after it had answered (a download in the delivery phase): it keeps
    /// its evidence, not its observation.
    mutating func fail(_ failure: VantageFailure) {
        observed = nil
        payload = nil
        self.failure = failure
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

/// A vantage's part in a pull, a resolve or one image of a bundle; its payload is what it resolved.
public typealias ImageRun = SubjectRun<ObservedImage, ImageResolution>
/// A vantage's part in a fetch.
public typealias FileRun = SubjectRun<ObservedFile, Never>
/// A vantage's part in one formula of a bottle run.
public typealias BottleRun = SubjectRun<ObservedBottle, Never>

extension SubjectRun where Payload == ImageResolution {
    /// What this vantage resolved, when it answered.
    public var resolution: ImageResolution? { payload }
}

extension SubjectRun: VantageOutcome {}

/// What a vantage's work returns: the subject, the evidence of how it came, any contradiction
/// among its own sources, and what the delivery needs from it.
struct VantageAnswer<Subject: Observable, Payload: Sendable>: Sendable {
    var subject: Subject
    var payload: Payload?
    var evidence: AgreementReport.Evidence?
    var inconsistency: String?

    init(subject: Subject, payload: Payload? = nil, evidence: AgreementReport.Evidence?, inconsistency: String? = nil) {
        self.subject = subject
        self.payload = payload
        self.evidence = evidence
        self.inconsistency = inconsistency
    }
}

/// Why a vantage gave no observation: the package's one run error, whose kind says whether it is
/// the request's fault (exit 2), the route's (exit 3), or tampering (dissent).
public typealias VantageFailure = CoordinatorError
