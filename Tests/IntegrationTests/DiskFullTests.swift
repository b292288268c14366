import Foundation
import Testing
import TestSupport

/// A full disk under --output, and under the cache: a clear error (exit 3, "No space left"),
/// nothing half-written, and no blob in the store that misses its digest.
@Suite("disk full", .serialized)
struct DiskFullTests {
    /// A 5 MiB tmpfs, unmounted when released. Nil (with the reason) where mounting is not allowed.
    final class SmallFilesystem {
        let path: String
        private let directory: TemporaryDirectory

        init?(reason: inout String) throws {
            directory = try TemporaryDirectory(prefix: "tmpfs")
            path = directory.file("mnt")
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let mount = try Shell.run(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", path])
            guard mount.status == 0 else {
                reason = "mount -t tmpfs failed (\(mount.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); this needs root in a sandbox that allows mounts"
                return nil
            }
        }

        deinit {
            _ = try? Shell.run(["umount", "-l", path])
        }
    }

    @Test func fullOutputAndFullCacheFailCleanly() async throws {
        var reason = ""
        guard let small = try SmallFilesystem(reason: &reason) else {
            print("skipped: \(reason)")
            return
        }
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [4_000_000, 4_000_000], content: .incompressible)
        _ = try lab.push(layout, "full/app", tag: "1")
        let vantages = try lab.vantagesFile()
        let cache = lab.home.file("cache")

        // The output's filesystem fills up while the archive is written.
        let output = small.path + "/app.tar"
        let full = try lab.run(["pull", "\(lab.registry.host)/full/app:1", "--output", output, "--vantages", vantages] + (try lab.registryOptions()),
                               environment: ["THREETOFU_CACHE": cache])
        #expect(full.status == 3, "\(full.stderr)")
        #expect(full.stderr.lowercased().contains("no space left"), "\(full.stderr)")
        #expect(full.stderr.contains(small.path), "the message does not say where: \(full.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: small.path)) ?? ["?"]).isEmpty, "something was left on the full filesystem")
        try KillTests.expectStoreIntact(cache)
        // The layers are verified in the store: with room, the same pull downloads nothing.
        let roomy = lab.home.file("app.tar")
        let retry = try lab.run(["pull", "\(lab.registry.host)/full/app:1", "--output", roomy, "--vantages", vantages, "--json"] + (try lab.registryOptions()),
                                environment: ["THREETOFU_CACHE": cache])
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(retry.stdout.contains("\"layersDownloaded\" : 0"), "\(retry.stdout)")

        // The cache's filesystem fills up while a layer downloads.
        let smallCache = small.path + "/cache"
        let layers = try Lab.layersBig(lab)
        let noRoom = try lab.run(["pull", "\(lab.registry.host)/full/big:1", "--output", lab.home.file("big.tar"), "--vantages", vantages] + (try lab.registryOptions()),
                                 environment: ["THREETOFU_CACHE": smallCache])
        #expect(noRoom.status == 3, "\(noRoom.stderr)")
        #expect(noRoom.stderr.lowercased().contains("no space left"), "\(noRoom.stderr)")
        #expect(!FileManager.default.fileExists(atPath: lab.home.file("big.tar")))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        try KillTests.expectStoreIntact(smallCache)
        #expect(layers > 0)
    }

    /// The same through an SSH vantage, whose bytes reach the cache through the SSH transports'
    /// own file sink: the full cache is a clear error, not a short blob.
    @Test func fullCacheUnderAnSSHVantageFailsCleanly() async throws {
        var reason = ""
        guard let small = try SmallFilesystem(reason: &reason) else {
            print("skipped: \(reason)")
            return
        }
        let lab = try await Lab()
        let server = try await SSHServer()
        _ = try Lab.layersBig(lab)
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("vps", server), includeStandard: false)
        let policy = lab.home.file("one.toml")
        try """
            name = "one-ssh"
            description = "The SSH vantage alone."
            min_agreeing = 1
            max_unavailable = 0
            blob_verification = "source"
            require_route_kinds = ["ssh"]
            allow_insecure_registries = true

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let smallCache = small.path + "/cache"
        let output = lab.home.file("big-ssh.tar")
        let noRoom = try lab.run(
            ["pull", "\(lab.registry.host)/full/big:1", "--output", output, "--vantages", vantages, "--policy", policy] + (try lab.registryOptions()),
            environment: ["THREETOFU_CACHE": smallCache])
        #expect(noRoom.status == 3, "\(noRoom.stderr)")
        #expect(noRoom.stderr.lowercased().contains("no space left"), "\(noRoom.stderr)")
        #expect(noRoom.stderr.contains(smallCache), "the message does not say where: \(noRoom.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        try KillTests.expectStoreIntact(smallCache)
    }
}

extension Lab {
    /// Pushes full/big:1, one 8 MB layer (more than the small filesystem holds); returns its size.
    static func layersBig(_ lab: Lab) throws -> Int {
        let layout = try lab.makeImage(layers: [8_000_000], seed: 3, content: .incompressible)
        _ = try lab.push(layout, "full/big", tag: "1")
        return layout.images[0].layers[0].size
    }
}
