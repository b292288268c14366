import Agreement
import Report

/// What the history keeps of a report, decided without I/O.
enum HistoryFacts {
    /// The digest the vantages agreed on, before any time rule: a run refused only because its
    /// history was short still counts as a day the vantages agreed. Nil when they did not agree.
    static func vantageAgreement(_ report: AgreementReport) -> (digest: String, vantages: [String])? {
        let answering = report.vantages.filter { $0.status == .ok }.map(\.name).sorted()
        if report.verdict == .agree, let agreed = report.agreed {
            return (agreed.historyDigest, answering)
        }
        guard let policy = report.policy.parameters, policy.timeRules.needHistory else { return nil }
        var observations: [Observation<ObservedSubject>] = []
        for vantage in report.vantages {
            let outcome: Observation<ObservedSubject>.Outcome
            switch (vantage.status, vantage.observed) {
            case (.ok, let observed?): outcome = .observed(observed)
            case (.tampered, let observed?): outcome = .contradicted(observed, vantage.error ?? "contradicts itself")
            case (.tampered, nil): outcome = .tampered(vantage.error ?? "tampered")
            default: outcome = .failed(vantage.error ?? "no answer")
            }
            observations.append(Observation(vantage: vantage.name, kind: vantage.kind, route: vantage.route, outcome: outcome))
        }
        let decision = Agreement.decide(observations, policy: policy.with(TimeRules()), usedInsecureRegistry: report.policy.usedInsecureRegistry ?? false)
        guard decision.verdict == .agree, let agreed = decision.agreed else { return nil }
        return (agreed.historyDigest, answering)
    }

    /// The columns of one vantage's observation.
    static func observed(_ subject: ObservedSubject?) -> (digest: String?, platformManifest: String?, config: String?) {
        switch subject {
        case .image(let image): (image.topDigest, image.platformManifestDigest, image.configDigest)
        case .file(let file): (file.sha256, nil, nil)
        case .bottle(let bottle): (bottle.layerDigest, bottle.manifestDigest, nil)
        case nil: (nil, nil, nil)
        }
    }
}
