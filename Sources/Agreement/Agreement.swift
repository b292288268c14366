/// Pure decision: from observations and a policy to a verdict. No I/O.
public enum Agreement {
    public enum Verdict: String, Sendable, Equatable, Codable {
        case agree, disagree, insufficient
    }

    /// `usedInsecureRegistry`: plain HTTP was allowed for the registry involved.
    public static func decide<Subject>(_ observations: [Observation<Subject>], policy: Policy, usedInsecureRegistry: Bool = false) -> Decision<Subject> {
        let answering = observations.filter { $0.observed != nil }
        let failed = observations.filter { $0.observed == nil }
        // What a vantage that contradicted itself saw is compared too, so the dissent shows.
        let comparisons = compare(observations.filter { $0.seen != nil })

        // A route that received bytes not matching their digest was tampered with: dissent.
        let tampered = observations.filter(\.isTampered)
        if !tampered.isEmpty {
            let details = tampered.map { observation in "\(observation.vantage) (\(observation.refusal ?? "refused"))" }
            return Decision(
                verdict: .disagree, agreed: nil, comparisons: comparisons, dissenters: tampered.map(\.vantage).sorted(),
                reason: "A vantage received bytes that do not match their digest: " + details.joined(separator: "; ") + ".")
        }

        // Dissent first: no policy can turn a disagreement into agreement.
        if let split = comparisons.first(where: { !$0.agree }) {
            let dissenters = minority(in: comparisons)
            return Decision(
                verdict: .disagree, agreed: nil, comparisons: comparisons, dissenters: dissenters,
                reason: "The vantages disagree on \(split.item): " + describe(split) + ".")
        }
        func insufficient(_ reason: String) -> Decision<Subject> {
            Decision(verdict: .insufficient, agreed: nil, comparisons: comparisons, dissenters: [], reason: reason)
        }
        if answering.isEmpty {
            // When every vantage failed for the same reason (a tag that is not there), that is the news.
            let reasons = Set(failed.compactMap { observation -> String? in
                if case .failed(let message) = observation.outcome { return message }
                return nil
            })
            let shared = reasons.count == 1 && failed.count > 1 ? "; every one says: " + (reasons.first ?? "") : ""
            return insufficient("No vantage answered (\(failed.map(\.vantage).joined(separator: ", ")))\(shared).")
        }
        if failed.count > policy.maxUnavailable {
            return insufficient(
                "\(failed.count) of \(observations.count) vantages did not answer (\(failed.map(\.vantage).joined(separator: ", "))); policy '\(policy.name)' allows \(policy.maxUnavailable).")
        }
        if answering.count < policy.minAgreeing {
            return insufficient(
                "Only \(answering.count) vantage\(answering.count == 1 ? "" : "s") answered and agreed; policy '\(policy.name)' needs \(policy.minAgreeing). Add vantages to the vantages file or choose another policy.")
        }
        let kinds = Set(answering.map(\.kind))
        let missingKinds = policy.requireRouteKinds.filter { !kinds.contains($0) }
        if !missingKinds.isEmpty {
            return insufficient("Policy '\(policy.name)' needs an answering vantage of kind \(missingKinds.joined(separator: " and ")); none answered.")
        }
        if usedInsecureRegistry && !policy.allowInsecureRegistries {
            return insufficient("Policy '\(policy.name)' does not allow plain-HTTP (insecure) registries.")
        }
        guard let agreed = answering.first?.observed else {
            return insufficient("No vantage answered.")
        }
        return Decision(
            verdict: .agree, agreed: agreed, comparisons: comparisons, dissenters: [],
            reason: "All \(answering.count) answering vantages agree on \(agreed.comparedItems.first?.value ?? "it") under policy '\(policy.name)'.")
    }

    /// Item-by-item comparison across the vantages that saw something. Items that only some
    /// vantages have (e.g. layer 5 when one saw four layers) count as disagreement.
    public static func compare<Subject>(_ answering: [Observation<Subject>]) -> [Comparison] {
        var order: [String] = []
        var values: [String: [String: String]] = [:]
        for observation in answering {
            guard let subject = observation.seen else { continue }
            for (item, value) in subject.comparedItems {
                if values[item] == nil {
                    order.append(item)
                    values[item] = [:]
                }
                values[item]?[observation.vantage] = value
            }
        }
        return order.map { item in
            let seen = values[item] ?? [:]
            let agree = seen.count == answering.count && Set(seen.values).count == 1
            return Comparison(item: item, agree: agree, values: seen)
        }
    }

    /// Vantages outside the largest group of identical answers on any disagreeing item.
    static func minority(in comparisons: [Comparison]) -> [String] {
        var dissenters: Set<String> = []
        for comparison in comparisons where !comparison.agree {
            let groups = Dictionary(grouping: comparison.values, by: \.value).mapValues { $0.map(\.key) }
            let largest = groups.values.map(\.count).max() ?? 0
            let majorities = groups.values.filter { $0.count == largest }
            if majorities.count == 1, let majority = majorities.first {
                dissenters.formUnion(comparison.values.keys.filter { !majority.contains($0) })
            } else {
                dissenters.formUnion(comparison.values.keys)
            }
        }
        return dissenters.sorted()
    }

    static func describe(_ comparison: Comparison) -> String {
        let groups = Dictionary(grouping: comparison.values, by: \.value)
        return groups.keys.sorted().map { value in
            let names = (groups[value] ?? []).map(\.key).sorted().joined(separator: ", ")
            return "\(names) saw \(value)"
        }.joined(separator: "; ")
    }
}
