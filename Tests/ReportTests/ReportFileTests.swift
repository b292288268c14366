import Agreement
import Foundation
import Report
import Testing

func sampleReport(verdict: Agreement.Verdict = .agree) -> AgreementReport {
    let image = ObservedImage(topDigest: "sha256:" + String(repeating: "a", count: 64), topMediaType: "application/vnd.oci.image.index.v1+json",
        platformManifestDigest: "sha256:" + String(repeating: "b", count: 64), configDigest: "sha256:" + String(repeating: "c", count: 64),
        layers: [.init(digest: "sha256:" + String(repeating: "d", count: 64), size: 1234)])
    let evidence = AgreementReport.Evidence(remoteIP: "127.0.0.1", effectiveURL: "https://r.test/v2/a/manifests/1", urlChain: ["https://r.test/v2/a/manifests/1"],
        tlsCertificateSHA256: [String(repeating: "e", count: 64)], httpVersion: "2", dockerContentDigest: image.topDigest,
        timings: .init(nameLookup: 0.001, connect: 0.002, tlsHandshake: 0.01, firstByte: 0.02, total: 0.03), rateLimit: ["ratelimit-remaining": "99"])
    return AgreementReport(
        tool: .init(version: "0.1.0"), createdAt: "2026-11-23T10:00:00Z",
        subject: .init(kind: .image, reference: "r.test/a:1", platform: "linux/amd64"),
        policy: .init(name: "strict", sha256: String(repeating: "f", count: 64)), verdict: verdict, reason: "All agree.",
        agreed: verdict == .agree ? .image(image) : nil,
        vantages: [.init(name: "home", kind: "local", route: "direct", status: .ok, error: nil, observed: .image(image), evidence: evidence, seconds: 0.5)],
        comparisons: [Comparison(item: "manifest", agree: true, values: ["home": image.topDigest])],
        artifact: .init(path: "/tmp/a.tar", format: "docker-archive", sha256: String(repeating: "0", count: 64)))
}

@Suite struct ReportFileTests {
    @Test func roundTripsAndSortsKeys() throws {
        let report = sampleReport()
        let data = try ReportFile.encode(report)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"schema\" : \"3tofu.report/v1\""))
        // Sorted keys: "agreed" comes before "artifact", which comes before "comparisons".
        let agreed = try #require(text.range(of: "\"agreed\""))
        let artifact = try #require(text.range(of: "\"artifact\""))
        #expect(agreed.lowerBound < artifact.lowerBound)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ReportFile.write(report, to: directory + "/r.json")
        #expect(try ReportFile.read(directory + "/r.json") == report)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["r.json"])
    }

    @Test func refusesOtherFiles() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-report-\(UUID().uuidString).json").path
        try Data("{\"hello\": 1}".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ReportError.self) { try ReportFile.read(path) }
        #expect(throws: ReportError.self) { try ReportFile.read("/nonexistent/report.json") }
    }
}
