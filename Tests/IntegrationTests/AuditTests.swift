import Foundation
import Report
import Testing
import TestSupport

/// Signed reports and verification on the far side: a real pull from a real registry through
/// three routes, then `3tofu report verify` on the report and the artifact, intact and tampered.
@Suite("audit: signed reports and verify", .serialized)
struct AuditTests {
    @Test func signedDockerArchiveVerifiesAndEveryTamperingIsCaught() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [60_000, 4_000])
        _ = try lab.push(layout, "audit/app", tag: "1")
        let key = lab.home.file("key")
        let keygen = try lab.run(["keygen", "--output", key])
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try lab.run(["keygen", "--output", key]).status == 2)

        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let attestation = lab.home.file("app.intoto.json")
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/audit/app:1", "--output", output, "--report", reportPath, "--sign-key", key, "--attestation", attestation,
             "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")
        try ReportSchema.validate(reportPath: reportPath)
        let report = try ReportFile.read(reportPath)
        #expect(report.signature?.algorithm == "ed25519")
        #expect(report.policy.minAgreeing == 3 && report.policy.usedInsecureRegistry == true)
        #expect(report.artifact?.manifestDigest == layout.topDigest)

        let statement = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: attestation))) as? [String: Any]
        #expect(statement?["_type"] as? String == "https://in-toto.io/Statement/v1")
        let subject = (statement?["subject"] as? [[String: Any]])?.first
        #expect((subject?["digest"] as? [String: String])?["sha256"] == (try Shell.sha256Hex(Data(contentsOf: URL(fileURLWithPath: output)))))

        // Intact: signature by the given key, consistent verdict, artifact as verified.
        let good = try lab.run(["report", "verify", reportPath, "--key", key + ".pub", "--artifact", output])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("VERIFIED") && !good.stdout.contains("✗"))
        #expect(good.stdout.contains("all 4 blobs match their digests"), "\(good.stdout)")

        // The key only inside the report is not trusted unless asked for.
        let embedded = try lab.run(["report", "verify", reportPath])
        #expect(embedded.status == 1)
        #expect(embedded.stdout.contains("--trust-embedded-key"))
        #expect(try lab.run(["report", "verify", reportPath, "--trust-embedded-key"]).status == 0)

        // Signed by someone else.
        let otherKey = lab.home.file("other")
        #expect(try lab.run(["keygen", "--output", otherKey]).status == 0)
        let other = try lab.run(["report", "verify", reportPath, "--key", otherKey + ".pub"])
        #expect(other.status == 1)
        #expect(other.stdout.contains("not by the given key"))

        // An edited verdict and an edited digest: the signature breaks, and so does consistency.
        let text = try String(contentsOfFile: reportPath, encoding: .utf8)
        let layerHex = String(layout.layerDigests[0].dropFirst("sha256:".count))
        for (name, edited) in [
            ("verdict", text.replacingOccurrences(of: "\"verdict\" : \"agree\"", with: "\"verdict\" : \"disagree\"")),
            ("digest", text.replacingOccurrences(of: layerHex, with: String(repeating: "0", count: 64), options: [], range: text.range(of: layerHex))),
        ] {
            #expect(edited != text, "\(name) edit did not apply")
            let path = lab.home.file("edited-\(name).json")
            try edited.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try lab.run(["report", "verify", path, "--key", key + ".pub"])
            #expect(result.status == 1, "\(name): \(result.stdout)")
            #expect(result.stdout.contains("changed after it was signed"), "\(name): \(result.stdout)")
            #expect(result.stdout.components(separatedBy: "✗").count > 2, "\(name): only the signature failed:\n\(result.stdout)")
        }

        // One flipped byte inside a layer of the docker-archive.
        var archive = try Data(contentsOf: URL(fileURLWithPath: output))
        let member = try #require(archive.range(of: Data("blobs/sha256/\(layerHex)".utf8)))
        let dataStart = member.lowerBound + 512 + 1000
        archive[dataStart] ^= 0x01
        let tampered = lab.home.file("tampered.tar")
        try archive.write(to: URL(fileURLWithPath: tampered))
        let flipped = try lab.run(["report", "verify", reportPath, "--key", key + ".pub", "--artifact", tampered])
        #expect(flipped.status == 1)
        #expect(flipped.stdout.contains("blob sha256:\(layerHex) does not match its digest"), "\(flipped.stdout)")
        #expect(flipped.stdout.contains("is not the artifact that was verified"), "\(flipped.stdout)")
    }

    @Test func dockerManifestWrittenAsOCILayoutVerifiesThroughItsConversion() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [20_000], mediaTypes: .docker)
        _ = try lab.push(layout, "audit/docker", tag: "2")
        let output = lab.home.file("layout")
        let reportPath = lab.home.file("report.json")
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/audit/docker:2", "--format", "oci", "--output", output, "--report", reportPath, "--vantages", try lab.vantagesFile()]
                + lab.registryOptions())
        #expect(pull.status == 0, "\(pull.stderr)")
        let report = try ReportFile.read(reportPath)
        #expect(report.artifact?.convertedFrom == layout.topDigest)
        #expect(report.artifact?.manifestDigest != layout.topDigest)

        let good = try lab.run(["report", "verify", reportPath, "--artifact", output])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(good.stdout.contains("OCI conversion of the agreed Docker manifest"), "\(good.stdout)")
        #expect(good.stdout.contains("the report is not signed"))

        let layer = output + "/blobs/sha256/" + layout.layerDigests[0].dropFirst("sha256:".count)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: layer))
        bytes[10] ^= 0xff
        try FileManager.default.removeItem(atPath: layer)
        try bytes.write(to: URL(fileURLWithPath: layer))
        let bad = try lab.run(["report", "verify", reportPath, "--artifact", output])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("does not match its digest"), "\(bad.stdout)")
    }
}
