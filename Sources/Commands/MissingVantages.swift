import Agreement

/// What a run without a vantages file is told, before any vantage is asked: which file was looked
/// for, and how to write one. Pure apart from the note it prints.
enum MissingVantages {
    /// Refuses when the policy cannot be met by this machine alone (exit 3, as when too few
    /// vantages answer: the policy is not met; only now it is said before asking anyone);
    /// otherwise notes that only this machine is asked.
    static func check(policy: Policy, lookedFor path: String) throws {
        if let message = refusal(policy: policy, lookedFor: path) {
            throw ToolFailure(.notMet, message)
        }
        Terminal.note("3tofu: no vantages file (looked for \(path); $THREETOFU_VANTAGES is not set): only this machine is asked. Write one with `3tofu vantages init`.")
    }

    static func refusal(policy: Policy, lookedFor path: String) -> String? {
        let kinds = policy.requireRouteKinds.filter { $0 != "local" }
        guard policy.minAgreeing > 1 || !kinds.isEmpty else { return nil }
        let needs = policy.minAgreeing > 1
            ? "\(policy.minAgreeing) agreeing vantages"
            : "a vantage of kind \(kinds.joined(separator: " and "))"
        return "no vantages file: looked for \(path) (no --vantages FILE, $THREETOFU_VANTAGES is not set), so only this machine could be asked, "
            + "and policy '\(policy.name)' needs \(needs). Write a starter file there with `3tofu vantages init` (this machine, a Tor route, "
            + "an SSH host to fill in), edit it, and test it with `3tofu vantages check`; nothing was fetched."
    }
}
