import Foundation
import Testing
import TestSupport

/// Pulls real images from a real registry through three real routes and checks the outputs with
/// tools nobody here wrote (skopeo, umoci, podman).
@Suite("pull through three vantages", .serialized)
struct PullTests {
    @Test func plainHTTPRegistryToDockerArchiveLoadsInPodman() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [300_000, 40_000, 5_000])
        _ = try lab.push(layout, "demo/app", tag: "1.0")
        let output = lab.home.file("app.tar")
        let result = try lab.run(["pull", "\(lab.registry.host)/demo/app:1.0", "--output", output, "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(lab.registry.host)/demo/app:1.0@\(layout.topDigest)")
        #expect(result.stderr.contains("verdict: AGREE"))
        // The written file's SHA-256 is shown, for checking the copy on the far side of an air gap.
        let fileSHA256 = try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(result.stderr.contains("Wrote \(output) (docker-archive, sha256 \(fileSHA256)), verified by 3 vantages."), "\(result.stderr)")

        // Each proxy carried its vantage's traffic.
        #expect(lab.httpProxy.requests().contains { $0.contains("/v2/demo/app/manifests/1.0") })

        let inspect = try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let info = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        #expect((info?["Layers"] as? [String])?.count == 3)
        #expect(info?["Architecture"] as? String == "amd64")

        let podmanRoot = lab.home.file("podman")
        let podman = ["podman", "--storage-driver", "vfs", "--root", podmanRoot + "/root", "--runroot", podmanRoot + "/run", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        let load = try Shell.run(podman + ["load", "-i", output])
        #expect(load.status == 0, "\(load.stderr)")
        let images = try Shell.run(podman + ["images", "--format", "{{.Repository}}:{{.Tag}}"])
        #expect(images.stdout.contains("\(lab.registry.host)/demo/app:1.0"), "\(images.stdout)")
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    @Test func anOCILayoutIntoAnExistingEmptyDirectoryNamedWithATrailingSlash() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [30_000])
        _ = try lab.push(layout, "slash/app", tag: "1")
        let directory = lab.home.file("layout")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let result = try lab.run([
            "pull", "\(lab.registry.host)/slash/app:1", "--format", "oci", "--output", directory + "/", "--vantages", try lab.vantagesFile(),
        ] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        let list = try Shell.run(["umoci", "ls", "--layout", directory])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("1"), "\(list.stdout)")
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    @Test func tlsRegistryWithLoginAndMultiPlatformIndexToOCILayout() async throws {
        let ca = try TestCA()
        let lab = try await Lab([.tls(ca), .htpasswd(user: "alice", password: "pa55-w0rd")])
        let layout = try lab.makeImage(layers: [50_000, 20_000], platforms: .multi)
        _ = try lab.push(layout, "multi/app", tag: "v2")
        let output = lab.home.file("layout")
        let result = try lab.run([
            "pull", "\(lab.registry.host)/multi/app:v2", "--format", "oci", "--platform", "linux/arm64", "--output", output,
            "--vantages", try lab.vantagesFile(),
        ] + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("pa55-w0rd"))
        #expect(!result.stdout.contains("pa55-w0rd"))

        let umociList = try Shell.run(["umoci", "ls", "--layout", output])
        #expect(umociList.status == 0, "\(umociList.stderr)")
        #expect(umociList.stdout.contains("v2"))
        let bundle = lab.home.file("bundle")
        let unpack = try Shell.run(["umoci", "unpack", "--image", "\(output):v2", bundle])
        #expect(unpack.status == 0, "\(unpack.stderr)")
        let inspect = try Shell.run(["skopeo", "inspect", "oci:\(output):v2"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("\"Architecture\": \"arm64\""))
        // The arm64 manifest is written byte for byte as the vantages agreed on it.
        let written = try Shell.run(["skopeo", "inspect", "--raw", "oci:\(output):v2"])
        #expect("sha256:" + (try Shell.sha256Hex(Data(written.stdout.utf8))) == layout.manifestDigests["linux/arm64/v8"])
    }

    @Test func dockerMediaTypesToOCIArchiveAndSecondPullDownloadsNothing() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [80_000, 10_000], mediaTypes: .docker, platforms: .index([.linuxAMD64, .linuxARM64v8], attestations: false))
        _ = try lab.push(layout, "docker/types", tag: "latest")
        let vantages = try lab.vantagesFile()
        let archive = lab.home.file("image.oci.tar")
        let first = try lab.run(["pull", "\(lab.registry.host)/docker/types", "--format", "oci-archive", "--output", archive, "--vantages", vantages, "--json"] + lab.registryOptions())
        #expect(first.status == 0, "\(first.stderr)")
        let inspect = try Shell.run(["skopeo", "inspect", "oci-archive:\(archive)"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        #expect(summary?["digest"] as? String == layout.topDigest)
        #expect(summary?["layersDownloaded"] as? Int == 2)
        // The first download runs alone, so the archive writer takes it as it arrives.
        #expect((summary?["layersStreamed"] as? Int ?? 0) >= 1, "\(first.stdout)")
        #expect(try archiveBlobsMatchTheirNames(archive) == [])

        let again = lab.home.file("again.tar")
        let second = try lab.run(["pull", "\(lab.registry.host)/docker/types:latest", "--output", again, "--vantages", vantages, "--json"] + lab.registryOptions())
        #expect(second.status == 0, "\(second.stderr)")
        let secondSummary = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        #expect(secondSummary?["layersDownloaded"] as? Int == 0)
        #expect(secondSummary?["layersCached"] as? Int == 2)
        #expect(secondSummary?["layersStreamed"] as? Int == 0, "cached layers are read from the store")
        #expect(try archiveBlobsMatchTheirNames(again) == [])
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(again)"]).status == 0)
    }

    @Test func blobRedirectToAnotherHostGetsNoAuthorization() async throws {
        // The "CDN" serves the registry's own storage; the registry redirects blob GETs to it.
        let storage = try TemporaryDirectory(prefix: "cdn-root")
        let cdn = try await FileServer(root: storage.path)
        defer { cdn.stop() }
        let ca = try TestCA()
        let registry = try await RegistryServer([.tls(ca), .htpasswd(user: "bob", password: "hunter22"), .redirectBlobs(baseURL: cdn.baseURL)])
        defer { registry.stop() }
        // Serve the registry's storage directory from the CDN by linking it in.
        try FileManager.default.removeItem(atPath: storage.path)
        try FileManager.default.createSymbolicLink(atPath: storage.path, withDestinationPath: registry.storagePath)

        let home = try TemporaryDirectory(prefix: "home")
        let auth = Data("bob:hunter22".utf8).base64EncodedString()
        try FileManager.default.createDirectory(atPath: home.file(".docker"), withIntermediateDirectories: true)
        try #"{"auths": {"\#(registry.host)": {"auth": "\#(auth)"}}}"#.write(toFile: home.file(".docker/config.json"), atomically: true, encoding: .utf8)
        let layout = try TestImage.make(in: home.file("layout"), layers: [20_000])
        _ = try TestImage.push(layout, to: registry, repository: "cdn/app", tag: "1")

        let vantages = home.file("v.toml")
        try "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[[vantage]]\nname = \"b\"\nkind = \"local\"\n[[vantage]]\nname = \"c\"\nkind = \"local\"\n"
            .write(toFile: vantages, atomically: true, encoding: .utf8)
        let output = home.file("out.tar")
        // The CDN hop is plain HTTP on loopback; it must be allowed explicitly, like any plain-HTTP host.
        let result = try ThreeTofuCLI.run(
            ["pull", "\(registry.host)/cdn/app:1", "--output", output, "--vantages", vantages, "--ca-cert", ca.caCertPath, "--insecure-registry", "127.0.0.1:\(cdn.port)"],
            home: home.path)
        #expect(result.status == 0, "\(result.stderr)")
        let blobRequests = cdn.requests().filter { $0.path.contains("/blobs/sha256/") }
        #expect(blobRequests.count >= 2, "the registry did not redirect blob downloads: \(cdn.requests())")
        #expect(blobRequests.allSatisfy { !$0.hadAuthorization })
    }
}
