import Foundation
import Testing
import TestSupport

/// `pull --images-from`: several images from a real registry through three real routes, written
/// as one bundle and read back with skopeo, umoci and podman.
@Suite("bundles of images", .serialized)
struct BundleTests {
    /// Three images: two single-platform ones, and a multi-platform index picked at linux/arm64.
    struct Pushed {
        var lab: Lab
        var names: [String]
        var arm64Manifest: String
        var imagesFile: String
        var vantages: String
    }

    static func pushThree() async throws -> Pushed {
        let lab = try await Lab()
        let host = lab.registry.host
        let first = try lab.makeImage(layers: [40_000, 6_000], seed: 11)
        let second = try lab.makeImage(layers: [30_000], mediaTypes: .docker, seed: 12)
        let multi = try lab.makeImage(layers: [20_000, 4_000], platforms: .multi, seed: 13)
        _ = try lab.push(first, "bundle/web", tag: "1.0")
        _ = try lab.push(second, "bundle/db", tag: "1.0")
        _ = try lab.push(multi, "bundle/tools", tag: "v3")
        let names = ["\(host)/bundle/web:1.0", "\(host)/bundle/db:1.0", "\(host)/bundle/tools:v3"]
        let imagesFile = lab.home.file("images.txt")
        try """
            # images for the far side
            \(names[0])

            \(names[1])   # docker media types
            \(names[2]) linux/arm64

            """.write(toFile: imagesFile, atomically: true, encoding: .utf8)
        return Pushed(
            lab: lab, names: names, arm64Manifest: multi.manifestDigests["linux/arm64/v8"] ?? "", imagesFile: imagesFile,
            vantages: try lab.vantagesFile())
    }

    @Test func threeImagesIntoOneOCILayoutThenRerunFetchesNothing() async throws {
        let setup = try await Self.pushThree()
        let lab = setup.lab
        let output = lab.home.file("bundle")
        let reports = lab.home.file("reports")
        try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
        let result = try lab.run(
            ["pull", "--images-from", setup.imagesFile, "--format", "oci", "--output", output, "--vantages", setup.vantages,
             "--report", reports + "/r.json", "--json"] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        for name in setup.names {
            #expect(result.stderr.contains(name), "the summary table should list \(name): \(result.stderr)")
        }

        let umoci = try Shell.run(["umoci", "ls", "--layout", output])
        #expect(umoci.status == 0, "\(umoci.stderr)")
        #expect(Set(umoci.stdout.split(separator: "\n").map(String.init)) == Set(setup.names))
        for name in setup.names {
            let inspect = try Shell.run(["skopeo", "inspect", "oci:\(output):\(name)"])
            #expect(inspect.status == 0, "skopeo cannot read \(name): \(inspect.stderr)")
        }
        let arm = try Shell.run(["skopeo", "inspect", "--raw", "oci:\(output):\(setup.names[2])"])
        #expect("sha256:" + (try Shell.sha256Hex(Data(arm.stdout.utf8))) == setup.arm64Manifest)

        // One report per image, named after its position and name; each vouches for the bundle.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let images = try #require(summary["images"] as? [[String: Any]])
        #expect(images.count == 3)
        let reportNames = try FileManager.default.contentsOfDirectory(atPath: reports).sorted()
        let host = lab.registry.host.replacingOccurrences(of: ":", with: "_")
        #expect(reportNames == ["r.1-\(host)_bundle_web_1.0.json", "r.2-\(host)_bundle_db_1.0.json", "r.3-\(host)_bundle_tools_v3.json"])
        let verify = try lab.run(["report", "verify", reports + "/" + reportNames[2], "--artifact", output])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect((summary["layersDownloaded"] as? Int ?? 0) == 5)

        // A second run into a new bundle finds every layer verified in the cache.
        let again = try lab.run(
            ["pull", "--images-from", setup.imagesFile, "--format", "oci", "--output", lab.home.file("bundle2"), "--vantages", setup.vantages, "--json"]
                + lab.registryOptions())
        #expect(again.status == 0, "\(again.stderr)")
        let secondSummary = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        #expect(secondSummary?["layersDownloaded"] as? Int == 0)
        #expect(secondSummary?["layersCached"] as? Int == 5)
        // Running again onto the existing bundle is refused before anything is asked.
        let onto = try lab.run(["pull", "--images-from", setup.imagesFile, "--format", "oci", "--output", output, "--vantages", setup.vantages] + lab.registryOptions())
        #expect(onto.status == 2)
        #expect(onto.stderr.contains("already exists"))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    @Test func threeImagesIntoOneDockerArchiveLoadInOnePodmanLoad() async throws {
        let setup = try await Self.pushThree()
        let lab = setup.lab
        let output = lab.home.file("bundle.tar")
        let result = try lab.run(["pull", "--images-from", setup.imagesFile, "--output", output, "--vantages", setup.vantages] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 3, "one pinned reference per image: \(result.stdout)")

        for name in setup.names {
            let inspect = try Shell.run(["skopeo", "inspect", "docker-archive:\(output):\(name)"])
            #expect(inspect.status == 0, "skopeo cannot read \(name): \(inspect.stderr)")
        }
        // podman's run root must be a short path (its socket names are limited in length).
        let runRoot = "/tmp/3tb-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: runRoot) }
        let podman = [
            "podman", "--storage-driver", "vfs", "--root", lab.home.file("podman-root"), "--runroot", runRoot, "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
        ]
        let load = try Shell.run(podman + ["load", "-i", output])
        #expect(load.status == 0, "\(load.stderr)")
        let images = try Shell.run(podman + ["images", "--format", "{{.Repository}}:{{.Tag}}"])
        for name in setup.names {
            #expect(images.stdout.contains(name), "podman did not load \(name): \(images.stdout)")
        }
        let arch = try Shell.run(podman + ["image", "inspect", "--format", "{{.Architecture}}", setup.names[2]])
        #expect(arch.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "arm64")
    }

    @Test func badLineInTheImagesFileIsExit2WithFileAndLine() async throws {
        let home = try TemporaryDirectory(prefix: "home")
        let file = home.file("images.txt")
        try "alpine:3.20\n\nnginx:1.27 linux/arm64 extra\n".write(toFile: file, atomically: true, encoding: .utf8)
        let output = home.file("out")
        let result = try ThreeTofuCLI.run(["pull", "--images-from", file, "--format", "oci", "--output", output], home: home.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(file):3:"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))

        let both = try ThreeTofuCLI.run(["pull", "alpine:3.20", "--images-from", file, "--output", output], home: home.path)
        #expect(both.status == 2)
        #expect(both.stderr.contains("not both"), "\(both.stderr)")
    }

    @Test func oneMissingImageWritesNothing() async throws {
        let lab = try await Lab()
        let present = try lab.makeImage(layers: [10_000], seed: 21)
        _ = try lab.push(present, "bundle/present", tag: "1")
        let file = lab.home.file("images.txt")
        try "\(lab.registry.host)/bundle/present:1\n\(lab.registry.host)/bundle/absent:1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let output = lab.home.file("bundle.tar")
        let report = lab.home.file("r.json")
        let result = try lab.run(
            ["pull", "--images-from", file, "--output", output, "--vantages", try lab.vantagesFile(), "--report", report, "--json"] + lab.registryOptions())
        #expect(result.status == 2 || result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("\(file):2"), "the failure should name the line: \(result.stderr)")
        // --json: the one document says so, and that nothing was written.
        try ReportSchema.validateResult(result.stdout)
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(document?["exitCode"] as? Int == Int(result.status))
        #expect((document?["written"] as? [Any])?.isEmpty == true, "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        // The image that agreed downloaded no layer: the set was refused first.
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: lab.home.file("cache/blobs/sha256"))) ?? []
        #expect(cached.count <= 1, "only the config may be cached: \(cached)")
        let absentReport = try Data(contentsOf: URL(fileURLWithPath: lab.home.file("r.2-\(lab.registry.host.replacingOccurrences(of: ":", with: "_"))_bundle_absent_1.json")))
        let parsed = try JSONSerialization.jsonObject(with: absentReport) as? [String: Any]
        #expect(parsed?["verdict"] as? String == "insufficient")
    }
}
