import Agreement
import Configuration
@testable import Coordinator
import Report
import Testing
import Transport

/// The one report builder, for a subject other than an image: what `report verify` needs from it.
@Suite struct ReportBuilderTests {
    static let policy = Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0, sha256: String(repeating: "f", count: 64))
    static let sha256 = "sha256:" + String(repeating: "a", count: 64)
    static let named = "sha256:" + String(repeating: "e", count: 64)

    static func run(_ name: String, kind: VantageSpec.Kind, published: String, hostKey: String? = nil) -> FileRun {
        let file = ObservedFile(url: "http://x.test/f", finalURL: "http://x.test/f", sha256: sha256, size: 10, publishedSHA256: published)
        let seen = TransportEvidence(remoteIP: "127.0.0.1", effectiveURL: "http://x.test/f?token=secret", sshHostKey: hostKey)
        return SubjectRun(
            spec: VantageSpec(name: name, kind: kind), route: kind == .ssh ? "ssh://u@h:22" : "direct", observed: file,
            failure: file.inconsistency.map { VantageFailure(message: $0, isBadInput: false, isTampering: true) },
            evidence: ReportBuilder.evidence(seen, chain: ["http://x.test/f?token=secret"]), seconds: 0.25)
    }

    static func report(_ runs: [FileRun]) -> AgreementReport {
        let request = FetchRequest(url: "http://x.test/f", checksumsURL: "http://x.test/SUMS", vantages: [], policy: policy, caCertificatePath: nil, storeRoot: "/nowhere", outputPath: nil)
        let decision = Agreement.decide(runs.map(\.observation), policy: policy, usedInsecureRegistry: request.usesPlainHTTP)
        return ReportBuilder.make(FetchResult(request: request, vantages: runs, decision: decision, written: nil), toolVersion: "0.0.0")
    }

    @Test func aFetchReportRecordsThePolicyParametersAndVerifies() {
        let report = Self.report([
            Self.run("home", kind: .local, published: Self.sha256), Self.run("proxy", kind: .proxy, published: Self.sha256),
            Self.run("vps", kind: .ssh, published: Self.sha256, hostKey: "SHA256:host"),
        ])
        #expect(report.verdict == .agree)
        #expect(report.policy.parameters != nil, "\(report.policy)")
        #expect(report.policy.usedInsecureRegistry == true)
        let result = ReportConsistency.check(report)
        #expect(result.succeeded && result.notes.isEmpty, "\(result)")
    }

    @Test func theEvidenceKeepsTheSSHHostKeyAndRedactsQueries() {
        let report = Self.report([Self.run("vps", kind: .ssh, published: Self.sha256, hostKey: "SHA256:host")])
        let evidence = report.vantages.first?.evidence
        #expect(evidence?.sshHostKey == "SHA256:host")
        #expect(evidence?.effectiveURL == "http://x.test/f?…" && evidence?.urlChain == ["http://x.test/f?…"])
    }

    @Test func aVantageThatContradictsItselfIsRefusedWithWhatItSawAndTheReportVerifies() {
        let report = Self.report([
            Self.run("home", kind: .local, published: Self.sha256), Self.run("proxy", kind: .proxy, published: Self.sha256),
            Self.run("evil", kind: .proxy, published: Self.named),
        ])
        #expect(report.verdict == .disagree)
        let evil = report.vantages.first { $0.name == "evil" }
        #expect(evil?.status == .tampered)
        #expect(evil?.observed?.file?.publishedSHA256 == Self.named)
        #expect(report.comparisons.first { $0.item == "published sha256" }?.values["evil"] == Self.named)
        let result = ReportConsistency.check(report)
        #expect(result.succeeded, "\(result.failed)")
    }
}
