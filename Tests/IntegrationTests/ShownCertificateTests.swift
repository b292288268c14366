import Foundation
import Report
import Testing
import TestSupport

/// A route whose TLS verification fails keeps, in the report and in `--json`, the certificate it
/// was shown (labelled shown, not trusted): mitmproxy intercepting with a CA the vantage does not
/// trust, compared with what `openssl s_client` is shown through the same proxy.
@Suite("shown certificate", .serialized)
struct ShownCertificateTests {
    static let repository = "shown/app"

    @Test func aRouteFailingVerificationKeepsTheCertificateItWasShownAndSendsNothing() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca)])
        defer { lab.stop() }
        let good = try lab.makeImage(layers: [3_000], seed: 41)
        let evil = try lab.makeImage(layers: [3_000], seed: 641)
        _ = try lab.push(good, Self.repository, tag: "1")
        _ = try lab.push(evil, Self.repository, tag: "evil")
        // Every manifest request that reached the attacker would be answered falsely and logged.
        let mitm = try await MitmProxy(attack: .init(.swapManifest, replacementTag: "evil", registry: lab.registry.host), upstreamCA: ca.caCertPath)
        defer { mitm.stop() }

        // The hostile route does not trust mitmproxy's CA, so its TLS verification fails.
        let vantages = try lab.vantagesFile(extra: AttackTests.proxyVantage("hostile-wifi", proxy: mitm.url), only: [.direct, .httpProxy])
        let reportPath = lab.home.file("report.json")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/\(Self.repository):1", "--output", lab.home.file("o.tar"), "--vantages", vantages, "--report", reportPath, "--json"]
                + lab.registryOptions())
        #expect(result.status == 3, "strict: one vantage did not answer: \(result.stderr)")

        // What mitmproxy shows on that route, as a tool nobody here wrote sees it.
        let expected = try Self.leafFingerprint(proxyPort: mitm.port, target: lab.registry.host)
        #expect(expected != ca.leafSHA256Fingerprint, "mitmproxy shows a certificate of its own")

        let report = try ReportFile.read(reportPath)
        let hostile = try #require(report.vantages.first { $0.name == "hostile-wifi" })
        #expect(hostile.status == .error)
        let evidence = try #require(hostile.evidence, "\(hostile)")
        let shown = try #require(evidence.tlsCertificatesShownNotTrusted?.first, "the failed route keeps what it was shown: \(evidence)")
        #expect(shown.sha256 == expected)
        #expect(shown.issuer?.contains("mitmproxy") == true, "\(shown)")
        #expect(shown.notBefore?.hasSuffix("Z") == true && shown.notAfter?.hasSuffix("Z") == true, "\(shown)")
        #expect(evidence.tlsCertificateSHA256.isEmpty, "nothing was trusted on that route")
        for honest in report.vantages where honest.name != "hostile-wifi" {
            #expect(honest.evidence?.tlsCertificatesShownNotTrusted == nil, "\(honest.name)")
        }
        // Not a byte of HTTP went over the unverified connections: the attacker saw no request, rewrote nothing.
        #expect(mitm.requests().isEmpty, "\(mitm.requests())")
        #expect(mitm.rewrites().isEmpty, "\(mitm.rewrites())")
        try ReportSchema.validate(reportPath: reportPath)

        // --json: the same certificate in the vantage's entry.
        try ReportSchema.validateResult(result.stdout)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let entries = document["vantages"] as? [[String: Any]] ?? []
        let entry = try #require(entries.first { $0["name"] as? String == "hostile-wifi" }, "\(result.stdout)")
        let listed = entry["tlsCertificatesShownNotTrusted"] as? [[String: Any]] ?? []
        #expect(listed.first?["sha256"] as? String == expected, "\(entry)")

        // report show: labelled, with the fingerprint whole.
        let text = try lab.run(["report", "show", reportPath], timeout: .seconds(60))
        #expect(text.stdout.contains("TLS shown, not trusted  sha256:\(expected)"), "\(text.stdout)")
    }

    /// The leaf certificate's SHA-256 that `openssl s_client` is shown through the HTTP proxy at
    /// `proxyPort` (nil: directly) when it connects to `target` ("host:port").
    static func leafFingerprint(proxyPort: Int?, target: String) throws -> String {
        let proxy = proxyPort.map { ["-proxy", "127.0.0.1:\($0)"] } ?? []
        let shown = try Shell.run(["openssl", "s_client"] + proxy + ["-connect", target], stdin: Data(), timeout: .seconds(60))
        let pem = try #require(Self.firstPEM(in: shown.stdout), "s_client showed no certificate: \(shown.stderr)")
        let fingerprint = try Shell.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], stdin: Data(pem.utf8))
        let hex = fingerprint.stdout.split(separator: "=").last.map { $0.replacingOccurrences(of: ":", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        return try #require(hex, "\(fingerprint.stderr)")
    }

    static func firstPEM(in text: String) -> String? {
        guard let start = text.range(of: "-----BEGIN CERTIFICATE-----"), let end = text.range(of: "-----END CERTIFICATE-----", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.lowerBound..<end.upperBound]) + "\n"
    }
}
