import Agreement
import Testing

private func image(_ top: String = "sha256:aaaa", config: String = "sha256:cccc", layers: [(String, Int64)] = [("sha256:l1", 10), ("sha256:l2", 20)], platform: String? = nil) -> ObservedImage {
    ObservedImage(topDigest: top, topMediaType: "application/vnd.oci.image.manifest.v1+json", platformManifestDigest: platform, configDigest: config, layers: layers.map { .init(digest: $0.0, size: $0.1) })
}

private func seen(_ name: String, _ image: ObservedImage, kind: String = "local") -> Observation<ObservedImage> {
    Observation(vantage: name, kind: kind, route: "direct", outcome: .observed(image))
}

private func failed(_ name: String, kind: String = "proxy") -> Observation<ObservedImage> {
    Observation(vantage: name, kind: kind, route: "socks5h://x", outcome: .failed("connection refused"))
}

private let strict = Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0)
private let tolerant = Policy(name: "tolerant", description: "", minAgreeing: 3, maxUnavailable: 1)

@Suite struct AgreementTests {
    @Test func threeIdenticalObservationsAgree() {
        let decision = Agreement.decide([seen("a", image()), seen("b", image()), seen("c", image())], policy: strict)
        #expect(decision.verdict == .agree)
        #expect(decision.agreed == image())
        #expect(decision.comparisons.allSatisfy { $0.agree })
        #expect(decision.dissenters.isEmpty)
    }

    struct Dissent: Sendable, CustomTestStringConvertible {
        var other: ObservedImage
        var item: String
        var testDescription: String { item }
    }

    @Test(arguments: [
        Dissent(other: image("sha256:bbbb"), item: "manifest"),
        Dissent(other: image(config: "sha256:dddd"), item: "config"),
        Dissent(other: image(layers: [("sha256:l1", 10), ("sha256:evil", 20)]), item: "layer 2"),
        Dissent(other: image(layers: [("sha256:l1", 10), ("sha256:l2", 21)]), item: "layer 2"),
        Dissent(other: image(layers: [("sha256:l1", 10)]), item: "layer count"),
        Dissent(other: image(platform: "sha256:pppp"), item: "platform manifest"),
    ])
    func anyDifferenceIsADisagreementUnderEveryPolicy(_ dissent: Dissent) {
        let permissive = Policy(name: "anything", description: "", minAgreeing: 0, maxUnavailable: 100)
        for policy in [strict, tolerant, permissive] {
            let decision = Agreement.decide([seen("a", image()), seen("b", image()), seen("evil", dissent.other)], policy: policy)
            #expect(decision.verdict == .disagree)
            #expect(decision.agreed == nil)
            #expect(decision.dissenters == ["evil"])
            #expect(decision.comparisons.contains { $0.item == dissent.item && !$0.agree })
            #expect(decision.reason.contains("evil"))
        }
    }

    @Test func dissentWinsOverFailures() {
        let decision = Agreement.decide([seen("a", image()), seen("b", image("sha256:x")), failed("c")], policy: tolerant)
        #expect(decision.verdict == .disagree)
        #expect(decision.dissenters == ["a", "b"])
    }

    struct Counting: Sendable, CustomTestStringConvertible {
        var answering: Int
        var failing: Int
        var policy: Policy
        var expected: Agreement.Verdict
        var testDescription: String { "\(answering) ok, \(failing) failed, \(policy.name) → \(expected)" }
    }

    @Test(arguments: [
        Counting(answering: 3, failing: 0, policy: strict, expected: .agree),
        Counting(answering: 4, failing: 0, policy: strict, expected: .agree),
        Counting(answering: 2, failing: 0, policy: strict, expected: .insufficient),
        Counting(answering: 3, failing: 1, policy: strict, expected: .insufficient),
        Counting(answering: 3, failing: 1, policy: tolerant, expected: .agree),
        Counting(answering: 3, failing: 2, policy: tolerant, expected: .insufficient),
        Counting(answering: 2, failing: 1, policy: tolerant, expected: .insufficient),
        Counting(answering: 0, failing: 3, policy: tolerant, expected: .insufficient),
        Counting(answering: 0, failing: 0, policy: Policy(name: "zero", description: "", minAgreeing: 0, maxUnavailable: 0), expected: .insufficient),
    ])
    func countsAgainstThePolicy(_ case_: Counting) {
        let observations = (0..<case_.answering).map { seen("ok\($0)", image()) } + (0..<case_.failing).map { failed("down\($0)") }
        let decision = Agreement.decide(observations, policy: case_.policy)
        #expect(decision.verdict == case_.expected)
        #expect((decision.agreed != nil) == (case_.expected == .agree))
    }

    @Test func requiredRouteKinds() {
        let needsProxy = Policy(name: "p", description: "", minAgreeing: 3, maxUnavailable: 0, requireRouteKinds: ["proxy"])
        let allLocal = [seen("a", image()), seen("b", image()), seen("c", image())]
        #expect(Agreement.decide(allLocal, policy: needsProxy).verdict == .insufficient)
        let mixed = [seen("a", image()), seen("b", image(), kind: "proxy"), seen("c", image())]
        #expect(Agreement.decide(mixed, policy: needsProxy).verdict == .agree)
    }

    @Test func insecureRegistriesOnlyWhenAllowed() {
        let observations = [seen("a", image()), seen("b", image()), seen("c", image())]
        let noPlainHTTP = Policy(name: "p", description: "", minAgreeing: 3, maxUnavailable: 0, allowInsecureRegistries: false)
        #expect(Agreement.decide(observations, policy: noPlainHTTP, usedInsecureRegistry: true).verdict == .insufficient)
        #expect(Agreement.decide(observations, policy: noPlainHTTP, usedInsecureRegistry: false).verdict == .agree)
    }

    /// Exhaustive over small worlds: whatever mix of answers, a single differing value never yields agree.
    @Test func agreeIsUnreachableWithADissentingVantage() {
        let values = [image(), image("sha256:b"), image(config: "sha256:c")]
        let permissive = Policy(name: "any", description: "", minAgreeing: 0, maxUnavailable: 9)
        for a in 0..<4 {
            for b in 0..<4 {
                for c in 0..<4 {
                    let picks = [a, b, c]
                    let observations = picks.enumerated().map { index, pick in
                        pick == 3 ? failed("v\(index)") : seen("v\(index)", values[pick])
                    }
                    let distinct = Set(picks.filter { $0 != 3 })
                    let decision = Agreement.decide(observations, policy: permissive)
                    if distinct.count > 1 {
                        #expect(decision.verdict == .disagree, "\(picks)")
                    } else if distinct.count == 1 {
                        #expect(decision.verdict == .agree, "\(picks)")
                    } else {
                        #expect(decision.verdict == .insufficient, "\(picks)")
                    }
                }
            }
        }
    }
}

@Suite struct TamperingTests {
    @Test func aTamperedRouteIsDissentUnderEveryPolicy() {
        let tampered = Observation<ObservedImage>(vantage: "evil", kind: "proxy", route: "http://p", outcome: .tampered("asked for sha256:a, got sha256:b"))
        let lenient = Policy(name: "lenient", description: "", minAgreeing: 1, maxUnavailable: 5)
        for policy in [strict, tolerant, lenient] {
            let decision = Agreement.decide([seen("a", image()), seen("b", image()), seen("c", image()), tampered], policy: policy)
            #expect(decision.verdict == .disagree)
            #expect(decision.agreed == nil)
            #expect(decision.dissenters == ["evil"])
            #expect(decision.reason.contains("asked for sha256:a"))
        }
    }

    @Test func anUnreachableRouteIsNotDissent() {
        let decision = Agreement.decide([seen("a", image()), seen("b", image()), seen("c", image()), failed("down")], policy: tolerant)
        #expect(decision.verdict == .agree)
    }
}

@Suite struct ContradictionTests {
    private func file(_ sha256: String, published: String?) -> ObservedFile {
        ObservedFile(url: "https://x.test/f", finalURL: "https://x.test/f", sha256: sha256, size: 10, publishedSHA256: published)
    }

    @Test func aVantageThatContradictsItselfIsDissentAndWhatItSawIsCompared() {
        let good = file("sha256:aa", published: "sha256:aa")
        let bad = file("sha256:aa", published: "sha256:ee")
        let observations = [
            Observation(vantage: "a", kind: "local", route: "direct", outcome: .observed(good)),
            Observation(vantage: "b", kind: "proxy", route: "http://p", outcome: .observed(good)),
            Observation(vantage: "evil", kind: "proxy", route: "http://q", outcome: .contradicted(bad, "the checksum file publishes sha256:ee")),
        ]
        let lenient = Policy(name: "lenient", description: "", minAgreeing: 1, maxUnavailable: 5)
        for policy in [strict, tolerant, lenient] {
            let decision = Agreement.decide(observations, policy: policy)
            #expect(decision.verdict == .disagree)
            #expect(decision.dissenters == ["evil"])
            #expect(decision.reason.contains("publishes sha256:ee"))
            let published = decision.comparisons.first { $0.item == "published sha256" }
            #expect(published?.values == ["a": "sha256:aa", "b": "sha256:aa", "evil": "sha256:ee"])
            #expect(published?.agree == false)
            #expect(decision.comparisons.first { $0.item == "sha256" }?.agree == true)
        }
        #expect(observations[2].observed == nil && observations[2].seen == bad && observations[2].isTampered)
    }
}
