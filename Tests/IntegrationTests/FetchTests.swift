import Foundation
import Report
import Testing
import TestSupport

/// `3tofu fetch` against nginx over three routes (direct, tinyproxy, microsocks), with a redirect,
/// a published SHA256SUMS, and mitmproxy swapping the file on one route.
@Suite("plain files", .serialized)
struct FetchTests {
    /// nginx serving files/tool.tar.gz (1 MiB of random bytes), files/SHA256SUMS, and
    /// /latest/tool.tar.gz redirecting to the file.
    final class Site: Sendable {
        let lab: Lab
        let server: NginxServer
        let root: String
        let sha256: String
        let size: Int

        init(checksum: String? = nil) async throws {
            lab = try await Lab()
            root = lab.home.file("site")
            try FileManager.default.createDirectory(atPath: root + "/files", withIntermediateDirectories: true)
            var bytes = [UInt8](repeating: 0, count: 1 << 20)
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            try Data(bytes).write(to: URL(fileURLWithPath: root + "/files/tool.tar.gz"))
            size = bytes.count
            sha256 = try sha256sum(root + "/files/tool.tar.gz")
            let sums = "\(String(repeating: "0", count: 64))  other.zip\n\(checksum ?? sha256)  tool.tar.gz\n"
            try sums.write(toFile: root + "/files/SHA256SUMS", atomically: true, encoding: .utf8)
            server = try await NginxServer(root: root, locations: "location = /latest/tool.tar.gz { return 302 /files/tool.tar.gz; }")
        }

        var fileURL: String { server.baseURL + "/files/tool.tar.gz" }

        func stop() {
            server.stop()
            lab.stop()
        }
    }

    @Test func threeRoutesAgreeThroughARedirectAndWithTheChecksumFile() async throws {
        let site = try await Site()
        defer { site.stop() }
        let output = site.lab.home.file("tool.tar.gz")
        let reportPath = site.lab.home.file("report.json")
        let result = try site.lab.run([
            "fetch", site.server.baseURL + "/latest/tool.tar.gz", "--output", output, "--checksums", site.server.baseURL + "/files/SHA256SUMS",
            "--vantages", try site.lab.vantagesFile(), "--report", reportPath,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try sha256sum(output) == site.sha256)
        #expect(result.stdout == "\(site.sha256)  \(output)\n")
        #expect(temporaryLeftovers(in: site.lab.home.path).isEmpty)
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .agree)
        #expect(report.subject.kind == .file)
        #expect(report.artifact?.sha256 == site.sha256)
        for vantage in report.vantages {
            #expect(vantage.observed?.file?.finalURL == site.fileURL, "\(vantage.name)")
            #expect(vantage.observed?.file?.publishedSHA256 == "sha256:" + site.sha256, "\(vantage.name)")
            #expect(vantage.evidence?.urlChain.count == 2, "\(vantage.name): the redirect is recorded")
        }
        try ReportSchema.validate(reportPath: reportPath)
        #expect(site.lab.httpProxy.requests().contains { $0.contains("/latest/tool.tar.gz") })

        // Without --checksums, through the JSON summary.
        let again = try site.lab.run(["fetch", site.fileURL, "--output", output, "--vantages", try site.lab.vantagesFile(), "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("\"sha256\" : \"\(site.sha256)\""), "\(again.stdout)")
    }

    @Test func aFileSwappedOnOneRouteIsRefusedAndNothingWritten() async throws {
        let site = try await Site()
        defer { site.stop() }
        let evil = site.lab.home.file("evil.tar.gz")
        try Data("a backdoored tool".utf8).write(to: URL(fileURLWithPath: evil))
        let mitm = try await MitmProxy(attack: .init(.swapURL, replacementPath: evil, targetPath: "/files/tool.tar.gz"))
        defer { mitm.stop() }
        let vantages = try site.lab.vantagesFile(extra: proxyVantageTOML("hostile", proxy: mitm.url), only: [.direct, .socks])
        let output = site.lab.home.file("tool.tar.gz")
        let reportPath = site.lab.home.file("report.json")

        let result = try site.lab.run(["fetch", site.fileURL, "--output", output, "--vantages", vantages, "--report", reportPath])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: site.lab.home.path).isEmpty)
        #expect(mitm.rewrites().contains { $0.contains("/files/tool.tar.gz") }, "\(mitm.rewrites())")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        #expect(report.artifact == nil)
        let comparison = try #require(report.comparisons.first { $0.item == "sha256" })
        #expect(!comparison.agree)
        #expect(comparison.values["direct"] == "sha256:" + site.sha256)
        #expect(comparison.values["hostile"] == "sha256:" + (try sha256sum(evil)))
    }

    @Test func aChecksumFileThatContradictsTheFileIsRefused() async throws {
        let site = try await Site(checksum: String(repeating: "a", count: 64))
        defer { site.stop() }
        let output = site.lab.home.file("tool.tar.gz")
        let result = try site.lab.run([
            "fetch", site.fileURL, "--output", output, "--checksums", site.server.baseURL + "/files/SHA256SUMS", "--vantages", try site.lab.vantagesFile(),
        ])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("publishes sha256:aaaa"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))

        let unlisted = try site.lab.run([
            "fetch", site.server.baseURL + "/files/SHA256SUMS", "--output", output, "--checksums", site.server.baseURL + "/files/SHA256SUMS",
            "--vantages", try site.lab.vantagesFile(),
        ])
        #expect(unlisted.status == 2, "\(unlisted.stderr)")
        #expect(unlisted.stderr.contains("no single SHA-256 for 'SHA256SUMS'") && unlisted.stderr.contains("tool.tar.gz"), "\(unlisted.stderr)")

        let missing = try site.lab.run(["fetch", site.server.baseURL + "/files/nothing.tar.gz", "--output", output, "--vantages", try site.lab.vantagesFile()])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("HTTP 404"), "\(missing.stderr)")
    }

    /// A fetch report is signed and attested when asked, and records every parameter of its
    /// policy, so `report verify` recomputes the verdict under that policy instead of taking the
    /// path for reports of older versions.
    @Test func aSignedFetchReportVerifiesUnderItsRecordedPolicy() async throws {
        let site = try await Site()
        defer { site.stop() }
        let key = site.lab.home.file("key")
        #expect(try site.lab.run(["keygen", "--output", key]).status == 0)
        let output = site.lab.home.file("tool.tar.gz")
        let reportPath = site.lab.home.file("report.json")
        let attestation = site.lab.home.file("tool.intoto.json")
        let result = try site.lab.run([
            "fetch", site.fileURL, "--output", output, "--vantages", try site.lab.vantagesFile(), "--report", reportPath,
            "--sign-key", key, "--attestation", attestation,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.signature?.algorithm == "ed25519")
        #expect(FileManager.default.fileExists(atPath: attestation))
        #expect(report.policy.minAgreeing == 3 && report.policy.maxUnavailable == 0, "\(report.policy)")
        #expect(report.policy.usedInsecureRegistry == true, "the file came over plain HTTP")

        let verify = try site.lab.run(["report", "verify", reportPath, "--key", key + ".pub", "--artifact", output])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("follows from the observations under the recorded policy 'strict'"), "\(verify.stdout)")
        #expect(!verify.stdout.contains("older 3tofu"), "\(verify.stdout)")
    }

    /// Every vantage reads a checksum file that contradicts the bytes: each is refused, its report
    /// entry says so and keeps what it saw, and `report verify` accepts that report as it is.
    @Test func aReportOfVantagesThatContradictThemselvesVerifies() async throws {
        let site = try await Site(checksum: String(repeating: "a", count: 64))
        defer { site.stop() }
        let output = site.lab.home.file("tool.tar.gz")
        let reportPath = site.lab.home.file("report.json")
        let result = try site.lab.run([
            "fetch", site.fileURL, "--output", output, "--checksums", site.server.baseURL + "/files/SHA256SUMS",
            "--vantages", try site.lab.vantagesFile(), "--report", reportPath,
        ])
        #expect(result.status == 1, "\(result.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.verdict == .disagree)
        #expect(report.vantages.allSatisfy { $0.status == .tampered && $0.observed?.file?.sha256 == "sha256:" + site.sha256 }, "\(report.vantages)")
        #expect(report.comparisons.first { $0.item == "published sha256" }?.values["direct"] == "sha256:" + String(repeating: "a", count: 64))

        try ReportSchema.validate(reportPath: reportPath)
        let verify = try site.lab.run(["report", "verify", reportPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("VERIFIED"), "\(verify.stdout)")
    }
}
