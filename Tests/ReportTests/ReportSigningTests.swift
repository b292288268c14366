import Agreement
import Foundation
import Report
import Testing

/// Canonical form, Ed25519 signatures, key files, and recomputing a report's verdict.
@Suite struct ReportSigningTests {
    /// The agreeing sample with every policy parameter recorded, as 3tofu now writes reports.
    static var agree: AgreementReport {
        var report = ReportSamples.agree
        report.policy = .init(ReportSamples.policy, usedInsecureRegistry: false)
        return report
    }

    static func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func canonicalFormIsByteIdenticalAcrossRunsAndRoundTrips() throws {
        let first = try ReportSigner.canonicalForm(Self.agree)
        let second = try ReportSigner.canonicalForm(Self.agree)
        #expect(first == second)
        // Written pretty-printed, read back, and canonicalised again: the same bytes.
        let file = try ReportFile.encode(Self.agree)
        #expect(try ReportSigner.canonicalForm(ofJSON: file) == first)
        let decoded = try JSONDecoder().decode(AgreementReport.self, from: file)
        #expect(try ReportSigner.canonicalForm(decoded) == first)
        // Doubles (timings, seconds) survive the round trip digit for digit.
        #expect(Self.text(first).contains("\"nameLookup\":0.001"))
        #expect(!Self.text(first).contains("\n") && !Self.text(first).contains(": "))
        #expect(!Self.text(first).contains("\"signature\""))
    }

    @Test func canonicalFormIgnoresKeyOrderWhitespaceAndEscapes() throws {
        let a = Data(#"{"b": [1, 2.50, {"y": null, "x": true}], "a": "caf\u00e9 \/ \"q\"", "signature": {"value": "x"}}"#.utf8)
        let b = Data("{\"a\":\"café / \\\"q\\\"\",\"b\":[1,2.5,{\"x\":true,\"y\":null}]}".utf8)
        #expect(try ReportSigner.canonicalForm(ofJSON: a) == ReportSigner.canonicalForm(ofJSON: b))
        #expect(Self.text(try ReportSigner.canonicalForm(ofJSON: a)) == #"{"a":"café / \"q\"","b":[1,2.5,{"x":true,"y":null}]}"#)
    }

    @Test(arguments: [
        ("2.0", "2"), ("1e2", "100"), ("0.001", "0.001"), ("1e-05", "1e-05"), ("-0", "0"), ("0.1", "0.1"), ("123456789012", "123456789012"),
    ])
    func numbersAreNormalised(input: String, canonical: String) throws {
        #expect(Self.text(try CanonicalJSON.parse(Data("[\(input)]".utf8)).canonicalData) == "[\(canonical)]")
    }

    @Test(arguments: [#"{"a":1,"a":2}"#, #"{"a":1"#, #"{"a":01}"#, #"["\u"]"#, "[1] x", #"{"a":"\ud800"}"#])
    func malformedOrAmbiguousJSONIsRefused(input: String) {
        #expect(throws: ReportError.self) { try CanonicalJSON.parse(Data(input.utf8)) }
    }

    @Test func signedReportChecksAgainstItsKeyAndNoOther() throws {
        let key = ReportSigningKey()
        let signed = try ReportSigner.sign(Self.agree, key: key)
        #expect(signed.signature?.algorithm == "ed25519")
        #expect(signed.signature?.publicKey == key.publicKey.base64)
        let file = try ReportFile.encode(signed)
        #expect(try ReportSigner.check(reportJSON: file, trustedKey: key.publicKey) == .valid(key: key.publicKey, trusted: true))
        #expect(try ReportSigner.check(reportJSON: file, trustedKey: nil) == .valid(key: key.publicKey, trusted: false))

        let other = ReportSigningKey()
        guard case .invalid(let reason) = try ReportSigner.check(reportJSON: file, trustedKey: other.publicKey) else {
            Issue.record("a report signed by another key was accepted")
            return
        }
        #expect(reason.contains(key.publicKey.fingerprint) && reason.contains(other.publicKey.fingerprint))
        #expect(try ReportSigner.check(reportJSON: ReportFile.encode(Self.agree), trustedKey: key.publicKey) == .unsigned)
    }

    @Test(arguments: ["\"verdict\" : \"agree\"", "\"sha256:1111111111", "\"remoteIP\" : \"127.0.0.1\""])
    func anyEditAfterSigningBreaksTheSignature(original: String) throws {
        let key = ReportSigningKey()
        let file = Self.text(try ReportFile.encode(try ReportSigner.sign(Self.agree, key: key)))
        #expect(file.contains(original))
        let replacement = original.replacingOccurrences(of: "agree", with: "disagree").replacingOccurrences(of: "sha256:1", with: "sha256:9")
            .replacingOccurrences(of: "127.0.0.1", with: "10.6.6.6")
        let edited = file.replacingOccurrences(of: original, with: replacement)
        #expect(edited != file)
        guard case .invalid(let reason) = try ReportSigner.check(reportJSON: Data(edited.utf8), trustedKey: key.publicKey) else {
            Issue.record("an edited report still verified")
            return
        }
        #expect(reason.contains("changed after it was signed"))
    }

    @Test func keyFilesRoundTrip() throws {
        let key = ReportSigningKey()
        let reread = try ReportSigningKey(text: key.fileText)
        #expect(reread.publicKey == key.publicKey)
        #expect(key.fileText.hasPrefix("-----BEGIN 3TOFU ED25519 PRIVATE KEY-----\n"))
        #expect(key.publicKey.fileText.hasPrefix("3tofu-ed25519 "))
        #expect(try ReportPublicKey(base64: key.publicKey.base64) == key.publicKey)
        #expect(throws: ReportError.self) { try ReportSigningKey(text: key.publicKey.fileText) }
        #expect(throws: ReportError.self) { try ReportPublicKey(base64: "c2hvcnQ=") }
    }

    @Test func consistentReportsPass() {
        for report in [Self.agree, ReportSamples.disagree, ReportSamples.insufficient] {
            var report = report
            report.policy = .init(ReportSamples.policy, usedInsecureRegistry: false)
            let result = ReportConsistency.check(report)
            #expect(result.succeeded, "\(report.verdict): \(result.failed)")
            #expect(result.notes.isEmpty)
        }
    }

    @Test func editedVerdictOrDigestIsInconsistent() {
        var verdict = ReportSamples.insufficient
        verdict.policy = .init(ReportSamples.policy, usedInsecureRegistry: false)
        verdict.verdict = .agree
        verdict.agreed = Self.agree.agreed
        #expect(ReportConsistency.check(verdict).failed.contains { $0.contains("the report says agree") })

        var digest = Self.agree
        digest.agreed?.image?.configDigest = ReportSamples.digest("7")
        #expect(ReportConsistency.check(digest).failed.contains { $0.contains("agreed digests") })

        var observed = Self.agree
        observed.vantages[1].observed?.image?.topDigest = ReportSamples.digest("9")
        let result = ReportConsistency.check(observed)
        #expect(result.failed.contains { $0.contains("comparisons do not follow") && $0.contains("manifest") })
        #expect(result.failed.contains { $0.contains("give disagree") })

        var looser = Self.agree
        looser.policy.minAgreeing = 4
        #expect(ReportConsistency.check(looser).failed.contains { $0.contains("give insufficient") })
    }

    @Test func olderReportsWithoutPolicyParametersAreCheckedForDissentOnly() {
        let result = ReportConsistency.check(ReportSamples.agree)
        #expect(result.succeeded, "\(result.failed)")
        #expect(result.notes.contains { $0.contains("older 3tofu") })
        var disagree = ReportSamples.disagree
        disagree.verdict = .insufficient
        #expect(!ReportConsistency.check(disagree).succeeded)
    }

    @Test func attestationIsAnInTotoStatementAboutTheArtifact() throws {
        let statement = try #require(InTotoStatement(report: Self.agree))
        let json = try JSONSerialization.jsonObject(with: statement.encoded()) as? [String: Any]
        #expect(json?["_type"] as? String == "https://in-toto.io/Statement/v1")
        #expect(json?["predicateType"] as? String == InTotoStatement.predicateType)
        let subjects = json?["subject"] as? [[String: Any]]
        #expect(subjects?.first?["name"] as? String == "app.tar")
        #expect((subjects?.first?["digest"] as? [String: String])?["sha256"] == ReportSamples.writtenArtifact.sha256)
        #expect((subjects?.last?["digest"] as? [String: String])?["sha256"] == String(repeating: "a", count: 64))
        #expect((json?["predicate"] as? [String: Any])?["verdict"] as? String == "agree")
        #expect(InTotoStatement(report: ReportSamples.disagree) == nil)
    }
}
