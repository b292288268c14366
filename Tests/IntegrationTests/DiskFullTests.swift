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

        /// A fresh one, or nil after printing why it cannot be mounted here (the test is then skipped).
        static func mounted() throws -> SmallFilesystem? {
            var reason = ""
            guard let small = try SmallFilesystem(reason: &reason) else {
                print("skipped: \(reason)")
                return nil
            }
            return small
        }
    }

    @Test func fullOutputAndFullCacheFailCleanly() async throws {
        guard let small = try SmallFilesystem.mounted() else { return }
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
        guard let small = try SmallFilesystem.mounted() else { return }
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

extension DiskFullTests {
    /// The artifact fits, the report after it does not: the --report path passed the check before
    /// the run (its directory exists and is writable), and only writing it fails. The run exits 3
    /// and leaves neither the image nor a report; the older file at --output is as it was.
    @Test func aReportThatNoLongerFitsTakesTheArchiveBack() async throws {
        guard let small = try SmallFilesystem.mounted() else { return }
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [1_000_000], seed: 5, content: .incompressible)
        _ = try lab.push(layout, "full/undo", tag: "1")
        let reference = "\(lab.registry.host)/full/undo:1"
        let options = ["--vantages", try lab.vantagesFile()] + (try lab.registryOptions())
        let cache = lab.home.file("cache")
        // The archive's size, from the same pull elsewhere (which also fills the cache).
        let elsewhere = lab.home.file("undo.tar")
        let first = try lab.run(["pull", reference, "--output", elsewhere] + options, environment: ["THREETOFU_CACHE": cache])
        #expect(first.status == 0, "\(first.stderr)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: elsewhere)[.size] as? Int)

        let output = small.path + "/app.tar"
        let older = "an older archive\n"
        try older.write(toFile: output, atomically: false, encoding: .utf8)
        let reportPath = small.path + "/report.json"
        try Self.fill(small.path, leaving: size)
        let run = try lab.run(["pull", reference, "--output", output, "--report", reportPath] + options, environment: ["THREETOFU_CACHE": cache])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.lowercased().contains("no space left"), "\(run.stderr)")
        #expect((try? String(contentsOfFile: output, encoding: .utf8)) == older, "the archive replaced the older file although the run failed")
        #expect(!FileManager.default.fileExists(atPath: reportPath))
        #expect(temporaryLeftovers(in: small.path).isEmpty, "\(temporaryLeftovers(in: small.path))")
    }

    /// The same for `fetch`: the file fits, its report does not; nothing is left at --output.
    @Test func aReportThatNoLongerFitsTakesTheFetchedFileBack() async throws {
        guard let small = try SmallFilesystem.mounted() else { return }
        let site = try await FetchTests.Site()
        defer { site.stop() }
        let output = small.path + "/tool.tar.gz"
        let reportPath = small.path + "/report.json"
        try Self.fill(small.path, leaving: site.size)
        let run = try site.lab.run(["fetch", site.fileURL, "--output", output, "--report", reportPath, "--vantages", try site.lab.vantagesFile()])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.lowercased().contains("no space left"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "the fetched file was left although the run failed")
        #expect(!FileManager.default.fileExists(atPath: reportPath))
        #expect(temporaryLeftovers(in: small.path).isEmpty, "\(temporaryLeftovers(in: small.path))")
    }

    /// Fills the file system at `directory` with a file, leaving room for `bytes` (in whole pages) and no more.
    static func fill(_ directory: String, leaving bytes: Int) throws {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { throw FixtureError("statvfs \(directory) failed") }
        let page = Int(info.f_frsize)
        let free = Int(info.f_bavail) * page
        let keep = (bytes + page - 1) / page * page
        guard free > keep else { throw FixtureError("\(directory) has \(free) bytes free, not more than \(keep)") }
        try Data(count: free - keep).write(to: URL(fileURLWithPath: directory + "/filler"))
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
