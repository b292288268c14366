import Agreement

/// Re-derives a report's verdict, agreed digests and comparisons from what its vantages observed,
/// under the policy parameters it records, and says where the report does not follow. Pure.
public enum ReportConsistency {
    public static func check(_ report: AgreementReport) -> VerificationResult {
        var result = VerificationResult()
        var observations: [Observation<ObservedSubject>] = []
        for vantage in report.vantages {
            switch (vantage.status, vantage.observed) {
            case (.ok, let observed?):
                observations.append(.init(vantage: vantage.name, kind: vantage.kind, route: vantage.route, outcome: .observed(observed)))
            case (.ok, nil):
                result.failed.append("vantage \(vantage.name) has status ok but records nothing it observed")
            case (.error, nil):
                observations.append(.init(vantage: vantage.name, kind: vantage.kind, route: vantage.route, outcome: .failed(vantage.error ?? "no answer")))
            case (.tampered, nil):
                observations.append(.init(vantage: vantage.name, kind: vantage.kind, route: vantage.route, outcome: .tampered(vantage.error ?? "tampered")))
            case (.tampered, let observed?):
                // A vantage whose answer contradicts itself: refused, and what it saw is compared.
                observations.append(
                    .init(vantage: vantage.name, kind: vantage.kind, route: vantage.route, outcome: .contradicted(observed, vantage.error ?? "contradicts itself")))
            case (.error, _?):
                result.failed.append("vantage \(vantage.name) has status error yet records an observation")
            }
        }
        let names = report.vantages.map(\.name)
        if Set(names).count != names.count {
            result.failed.append("two vantages share a name, so their observations cannot be told apart")
        }

        let recorded = report.policy.parameters
        // Without recorded parameters (an older report), only dissent can be recomputed.
        let policy = recorded ?? Policy(name: report.policy.name, description: "", minAgreeing: 1, maxUnavailable: Int.max, sha256: report.policy.sha256)
        let decision = TimeEvidenceCheck.recompute(
            Agreement.decide(observations, policy: policy, usedInsecureRegistry: report.policy.usedInsecureRegistry ?? false), report: report, policy: policy,
            result: &result)

        if decision.comparisons == report.comparisons {
            result.passed.append("the comparisons follow from what the vantages observed")
        } else {
            let changed = differingItems(recorded: report.comparisons, recomputed: decision.comparisons)
            result.failed.append("the comparisons do not follow from what the vantages observed (differing: \(changed))")
        }

        if recorded != nil {
            if decision.verdict == report.verdict {
                result.passed.append("the verdict \(report.verdict.rawValue) follows from the observations under the recorded policy '\(report.policy.name)'")
            } else {
                result.failed.append(
                    "the report says \(report.verdict.rawValue), but its observations under its recorded policy '\(report.policy.name)' give \(decision.verdict.rawValue): \(decision.reason)")
            }
            if decision.verdict == report.verdict {
                // A report may follow the reason with notes of its own (a bottle whose formula API check was skipped).
                if report.reason.hasPrefix(decision.reason + " ") {
                    result.notes.append("the report adds to its reason: \(report.reason.dropFirst(decision.reason.count + 1))")
                } else if decision.reason != report.reason {
                    result.failed.append("the report's reason is not the one its observations give (\"\(decision.reason)\")")
                }
            }
        } else {
            result.notes.append("the report does not record its policy's parameters (written by an older 3tofu), so the verdict was checked for dissent only")
            if decision.verdict == .disagree, report.verdict != .disagree {
                result.failed.append("the report says \(report.verdict.rawValue), but its vantages disagree: \(decision.reason)")
            } else if decision.verdict != .disagree, report.verdict == .disagree {
                result.failed.append("the report says disagree, but the observations it records agree")
            } else {
                result.passed.append("the verdict \(report.verdict.rawValue) is consistent with the recorded observations")
            }
        }

        if report.verdict == .agree {
            if let agreed = report.agreed, decision.verdict == .agree || recorded == nil, agreed == decision.agreed {
                result.passed.append("the agreed digests are what every answering vantage observed")
            } else if report.agreed == nil {
                result.failed.append("the verdict is agree but the report records no agreed digests")
            } else {
                result.failed.append("the agreed digests are not what the answering vantages observed")
            }
        } else {
            if report.agreed != nil { result.failed.append("the verdict is \(report.verdict.rawValue) but the report records agreed digests") }
            if report.artifact != nil { result.failed.append("the verdict is \(report.verdict.rawValue) but the report records a written artifact") }
        }
        return result
    }

    private static func differingItems(recorded: [Comparison], recomputed: [Comparison]) -> String {
        let old = Dictionary(recorded.map { ($0.item, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(recomputed.map { ($0.item, $0) }, uniquingKeysWith: { first, _ in first })
        var items = Set(old.keys).union(new.keys).filter { old[$0] != new[$0] }.sorted()
        if items.isEmpty { items = ["their order"] }
        return items.prefix(5).joined(separator: ", ") + (items.count > 5 ? ", …" : "")
    }
}

extension ObservedSubject: Observable {
    public var comparedItems: [(item: String, value: String)] {
        switch self {
        case .image(let image): image.comparedItems
        case .file(let file): file.comparedItems
        case .bottle(let bottle): bottle.comparedItems
        }
    }
}
