import Registry
import Testing

@Suite struct ChallengePolicyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var registry: String
        var challenger: String
        var answered: Bool
        var testDescription: String { "\(registry) ← 401 from \(challenger)" }
    }

    @Test(arguments: [
        Case(registry: "https://r.io", challenger: "https://r.io/v2/a/manifests/1", answered: true),
        Case(registry: "https://r.io", challenger: "https://R.IO:443/v2/a/blobs/sha256:1", answered: true),
        Case(registry: "http://127.0.0.1:5000", challenger: "http://127.0.0.1:5000/v2/", answered: true),
        Case(registry: "https://r.io", challenger: "https://cdn.r.io/blobs/x?sig=1", answered: false),
        Case(registry: "https://r.io", challenger: "https://r.io:8443/v2/a/blobs/sha256:1", answered: false),
        Case(registry: "https://r.io", challenger: "http://r.io/v2/a/blobs/sha256:1", answered: false),
        Case(registry: "https://127.0.0.1:5000", challenger: "https://127.0.0.1:5001/data", answered: false),
        Case(registry: "https://127.0.0.1:5000", challenger: "https://localhost:5000/data", answered: false),
        Case(registry: "https://r.io", challenger: "not a url at all", answered: false),
    ])
    func decides(_ c: Case) {
        let decision = ChallengePolicy.decide(registry: c.registry, challenger: c.challenger)
        if c.answered {
            #expect(decision == .answer)
        } else if case .refuse(let reason) = decision {
            // The refusal names the origin that asked, and never its query (signed CDN parameters).
            if let origin = Origin(c.challenger), !origin.host.isEmpty { #expect(reason.contains(origin.hostPort), "\(reason)") }
            #expect(!reason.contains("sig=1"), "\(reason)")
        } else {
            Issue.record("a 401 from \(c.challenger) would be answered with the login for \(c.registry)")
        }
    }
}
