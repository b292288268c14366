import Foundation
import Testing
import TestSupport

/// The content store as real users meet it: shared by pulls that run at the same time (a CI
/// machine running jobs in parallel), stale, or tampered with by someone who could write it.
/// Every run that exits 0 wrote exactly the agreed image; nothing in the cache is trusted because
/// of its name, and no link in it is ever followed.
@Suite("shared and tampered caches", .serialized)
struct SharedCacheTests {
    /// Four pulls of one image at once on one fresh cache, several rounds: every run succeeds,
    /// every archive is byte-identical, every member hashes to its name, skopeo reads it, and the
    /// store holds only blobs that match their digests. Before the per-blob locks and the
    /// no-replace commit, runs wrote one partial file together: most failed, and about one round
    /// in ten wrote an archive with a zeroed layer and exited 0.
    @Test func concurrentPullsOnOneCacheAllSucceedWithIdenticalArchives() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [24_000_000, 6_000_000, 1_000_000, 300_000], content: .incompressible)
        _ = try lab.push(layout, "shared/app", tag: "1")
        let vantages = try lab.vantagesFile()
        for round in 1...3 {
            let cache = lab.home.file("cache-round-\(round)")
            let pulls = try (1...4).map { index in
                try KillTests.Pull(
                    ["pull", "\(lab.registry.host)/shared/app:1", "--output", lab.home.file("r\(round)-\(index).tar"), "--vantages", vantages]
                        + (try lab.registryOptions()),
                    home: lab.home.path, cache: cache)
            }
            for pull in pulls { pull.process.waitUntilExit() }
            var hashes: Set<String> = []
            for (index, pull) in pulls.enumerated() {
                #expect(pull.process.terminationStatus == 0, "round \(round), pull \(index + 1): \(pull.stderr)")
                let output = lab.home.file("r\(round)-\(index + 1).tar")
                guard FileManager.default.fileExists(atPath: output) else { continue }
                hashes.insert(try Shell.check(["sha256sum", output]).split(separator: " ")[0].description)
                #expect(try archiveBlobsMatchTheirNames(output).isEmpty, "round \(round), pull \(index + 1)")
            }
            #expect(hashes.count == 1, "round \(round): the four archives differ")
            let inspected = try Shell.run(["skopeo", "inspect", "docker-archive:\(lab.home.file("r\(round)-1.tar"))"])
            #expect(inspected.status == 0, "\(inspected.stderr)")
            try KillTests.expectStoreIntact(cache)
            #expect(Self.linksOrStrays(in: cache).isEmpty, "\(Self.linksOrStrays(in: cache))")
        }
    }

    /// The same with the run that holds the big layer's lock killed (SIGKILL) part-way through
    /// its download: the other three finish with exit 0 and identical, correct archives; the
    /// kernel released the killed run's lock, and the run that took it over resumed the partial
    /// file (and hashed all of it). The killed run's rerun succeeds too.
    @Test func theRunHoldingALayerKilledMidDownload() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [60_000_000, 4_000_000], content: .incompressible)
        _ = try lab.push(layout, "shared/kill", tag: "1")
        let vantages = try lab.vantagesFile()
        let cache = lab.home.file("cache")
        func arguments(_ index: Int) throws -> [String] {
            ["pull", "\(lab.registry.host)/shared/kill:1", "--output", lab.home.file("k\(index).tar"), "--vantages", vantages, "--json"]
                + (try lab.registryOptions())
        }
        let big = layout.images[0].layers[0]
        let partial = KillTests.partial(of: big.digest, in: cache)
        let pulls = try (1...4).map { try KillTests.Pull(try arguments($0), home: lab.home.path, cache: cache) }
        var holder: KillTests.Pull?
        let reached = pulls[0].wait(until: {
            guard (KillTests.size(partial) ?? 0) > 10_000_000 else { return false }
            holder = pulls.first { Self.hasOpen(partial, pid: $0.pid) }
            return holder != nil
        })
        let victim = try #require(holder, "no run had the big layer's partial file open (reached: \(reached))")
        kill(victim.pid, SIGKILL)
        for pull in pulls { pull.process.waitUntilExit() }
        var hashes: Set<String> = []
        var resumed = 0
        for (index, pull) in pulls.enumerated() where pull !== victim {
            #expect(pull.process.terminationStatus == 0, "pull \(index + 1): \(pull.stderr)")
            let output = lab.home.file("k\(index + 1).tar")
            guard FileManager.default.fileExists(atPath: output) else { continue }
            hashes.insert(try Shell.check(["sha256sum", output]).split(separator: " ")[0].description)
            #expect(try archiveBlobsMatchTheirNames(output).isEmpty)
            let summary = try? JSONSerialization.jsonObject(with: Data(pull.stdout.utf8)) as? [String: Any]
            resumed += summary?["layersResumed"] as? Int ?? 0
        }
        #expect(hashes.count == 1)
        #expect(resumed == 1, "one run took the killed run's partial file over and resumed it")
        let victimIndex = pulls.firstIndex { $0 === victim }! + 1
        #expect(!FileManager.default.fileExists(atPath: lab.home.file("k\(victimIndex).tar")))
        try KillTests.expectStoreIntact(cache)
        let rerun = try lab.run(try arguments(victimIndex), environment: ["THREETOFU_CACHE": cache])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try Shell.check(["sha256sum", lab.home.file("k\(victimIndex).tar")]).split(separator: " ")[0].description == hashes.first)
    }

    /// The run holding a layer's lock is stopped (SIGSTOP) part-way: another run waits only while
    /// the holder's download grows, then (after THREETOFU_LOW_SPEED_TIME without growth) downloads
    /// the layer into a file of its own and finishes. The stopped run, continued, finishes too and
    /// keeps the copy already committed.
    @Test func aStoppedRunDoesNotHoldOthersUp() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [40_000_000], content: .incompressible)
        _ = try lab.push(layout, "shared/stopped", tag: "1")
        let vantages = try lab.vantagesFile()
        let cache = lab.home.file("cache")
        let partial = KillTests.partial(of: layout.images[0].layers[0].digest, in: cache)
        func pull(_ name: String) throws -> KillTests.Pull {
            try KillTests.Pull(
                ["pull", "\(lab.registry.host)/shared/stopped:1", "--output", lab.home.file(name), "--vantages", vantages] + (try lab.registryOptions()),
                home: lab.home.path, cache: cache, environment: ["THREETOFU_LOW_SPEED_TIME": "2"])
        }
        let first = try pull("first.tar")
        let reached = first.wait(until: { (KillTests.size(partial) ?? 0) > 5_000_000 })
        #expect(reached, "\(first.stderr)")
        kill(first.pid, SIGSTOP)
        let second = try pull("second.tar")
        // Bounded, so a run that waits for ever fails this test instead of hanging it.
        _ = second.wait(until: { false }, timeout: 120)
        let waitedForEver = second.process.isRunning
        #expect(!waitedForEver, "the second run still waits for the stopped one: \(second.stderr)")
        kill(first.pid, SIGCONT)
        if waitedForEver { kill(second.pid, SIGKILL) }
        second.process.waitUntilExit()
        first.process.waitUntilExit()
        #expect(second.process.terminationStatus == 0, "\(second.stderr)")
        #expect(first.process.terminationStatus == 0, "\(first.stderr)")
        #expect(try archiveBlobsMatchTheirNames(lab.home.file("second.tar")).isEmpty)
        #expect(try archiveBlobsMatchTheirNames(lab.home.file("first.tar")).isEmpty)
        try KillTests.expectStoreIntact(cache)
        let strays = ((try? FileManager.default.contentsOfDirectory(atPath: cache + "/ingest")) ?? []).filter { !$0.hasSuffix(".lock") }
        #expect(strays.isEmpty, "left in ingest/: \(strays)")
    }

    /// Pulls run under umask 002 (Ubuntu desktops, Fedora): the directories 3tofu makes in its
    /// cache are private all the same, so the next run does not refuse the cache.
    @Test func aGroupWritableUmaskStillMakesAPrivateCache() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [200_000])
        _ = try lab.push(layout, "shared/umask", tag: "1")
        let vantages = try lab.vantagesFile()
        let cache = lab.home.file("cache")
        for round in 1...2 {
            let result = try Shell.run(
                ["sh", "-c", "umask 002; exec \"$0\" \"$@\"", try ThreeTofuCLI.executable, "pull", "\(lab.registry.host)/shared/umask:1",
                 "--output", lab.home.file("u\(round).tar"), "--vantages", vantages] + (try lab.registryOptions()),
                env: ["PATH": "/usr/bin:/bin", "HOME": lab.home.path, "THREETOFU_CACHE": cache])
            #expect(result.status == 0, "round \(round): \(result.stderr)")
        }
        for directory in ["", "/blobs", "/blobs/sha256", "/ingest"] {
            var info = stat()
            #expect(stat(cache + directory, &info) == 0 && info.st_mode & 0o077 == 0, "\(directory): mode \(String(info.st_mode & 0o777, radix: 8))")
        }
    }

    /// Whether process `pid` has `path` open.
    static func hasOpen(_ path: String, pid: Int32) -> Bool {
        let directory = "/proc/\(pid)/fd"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name)) == path { return true }
        }
        return false
    }

    /// A cached layer overwritten with other bytes of the same size: the next pull hashes the
    /// cache before it relies on it, deletes the bad entry, downloads the layer again and writes
    /// the agreed bytes (docker-archive and OCI layout, whose blobs are hard links into the store).
    @Test func aCachedLayerOverwrittenWithOtherBytesIsFetchedAgain() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [3_000_000, 500_000], content: .incompressible)
        _ = try lab.push(layout, "shared/tampered", tag: "1")
        let vantages = try lab.vantagesFile()
        let cache = lab.home.file("cache")
        let reference = "\(lab.registry.host)/shared/tampered:1"
        let first = try lab.run(["pull", reference, "--output", lab.home.file("first.tar"), "--vantages", vantages] + (try lab.registryOptions()), environment: ["THREETOFU_CACHE": cache])
        #expect(first.status == 0, "\(first.stderr)")

        for (name, format) in [("again.tar", "docker-archive"), ("layout", "oci")] {
            let layer = layout.images[0].layers[0]
            let blob = KillTests.blob(layer.digest, in: cache)
            chmod(blob, 0o644)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: blob))
            for index in stride(from: 0, to: bytes.count, by: 4096) { bytes[index] ^= 0x5a }
            try bytes.write(to: URL(fileURLWithPath: blob))

            let again = try lab.run(
                ["pull", reference, "--output", lab.home.file(name), "--format", format, "--vantages", vantages, "--json"] + (try lab.registryOptions()),
                environment: ["THREETOFU_CACHE": cache])
            #expect(again.status == 0, "\(format): \(again.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
            #expect(summary?["layersDownloaded"] as? Int == 1, "\(format): \(again.stdout)")
            #expect(summary?["layersCached"] as? Int == 1, "\(format): \(again.stdout)")
            try KillTests.expectStoreIntact(cache)
            if format == "oci" {
                let written = lab.home.file("layout/blobs/sha256/" + layer.digest.replacingOccurrences(of: "sha256:", with: ""))
                #expect(try Shell.check(["sha256sum", written]).hasPrefix(layer.digest.replacingOccurrences(of: "sha256:", with: "")))
                #expect(try Shell.run(["umoci", "stat", "--image", lab.home.file("layout") + ":1"]).status == 0)
            } else {
                #expect(try archiveBlobsMatchTheirNames(lab.home.file(name)).isEmpty)
                #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(lab.home.file(name))"]).status == 0)
            }
        }
    }

    /// Links planted in the cache, at a partial download and at a finished blob's name, pointing
    /// outside it: the pull neither writes through them nor reads through them, the files they
    /// point to are unchanged, and the cache ends up holding plain, verified files.
    @Test func linksPlantedInTheCacheAreNeverFollowed() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [2_000_000, 700_000], content: .incompressible)
        _ = try lab.push(layout, "shared/links", tag: "1")
        let vantages = try lab.vantagesFile()
        let cache = lab.home.file("cache")
        let layers = layout.images[0].layers.sorted { $0.size < $1.size }
        let victimPartial = lab.home.file("victim-partial")
        let victimBlob = lab.home.file("victim-blob")
        try Data("do not append to me\n".utf8).write(to: URL(fileURLWithPath: victimPartial))
        // Same size as the layer, so a store that trusted names and sizes would take it.
        try Data(repeating: 0x41, count: layers[1].size).write(to: URL(fileURLWithPath: victimBlob))
        try FileManager.default.createDirectory(atPath: cache + "/ingest", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: cache + "/blobs/sha256", withIntermediateDirectories: true)
        chmod(cache, 0o700)
        try FileManager.default.createSymbolicLink(atPath: KillTests.partial(of: layers[0].digest, in: cache), withDestinationPath: victimPartial)
        try FileManager.default.createSymbolicLink(atPath: KillTests.blob(layers[1].digest, in: cache), withDestinationPath: victimBlob)

        let output = lab.home.file("links.tar")
        let pull = try lab.run(
            ["pull", "\(lab.registry.host)/shared/links:1", "--output", output, "--vantages", vantages] + (try lab.registryOptions()),
            environment: ["THREETOFU_CACHE": cache])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try String(contentsOfFile: victimPartial, encoding: .utf8) == "do not append to me\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: victimBlob)) == Data(repeating: 0x41, count: layers[1].size))
        #expect(try archiveBlobsMatchTheirNames(output).isEmpty)
        #expect(Self.linksOrStrays(in: cache).isEmpty, "\(Self.linksOrStrays(in: cache))")
        try KillTests.expectStoreIntact(cache)
    }

    /// A cache that another user could write is refused before any network work, with what to
    /// do; THREETOFU_CACHE_SHARED=1 is the user saying every writer is trusted.
    @Test func aCacheOtherUsersCanWriteIsRefusedUnlessSaidToBeShared() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [100_000])
        _ = try lab.push(layout, "shared/perm", tag: "1")
        let vantages = try lab.vantagesFile()
        let output = lab.home.file("perm.tar")
        let arguments = ["pull", "\(lab.registry.host)/shared/perm:1", "--output", output, "--vantages", vantages] + (try lab.registryOptions())
        let cache = lab.home.file("cache")
        let cases: [(String, () -> Void, String)] = [
            ("world-writable", { chmod(cache, 0o777) }, "writable by other users"),
            ("group-writable ingest", { chmod(cache, 0o700); mkdir(cache + "/ingest", 0o770); chmod(cache + "/ingest", 0o770) }, "writable by other users"),
            ("another owner", { chmod(cache + "/ingest", 0o700); #expect(chown(cache + "/ingest", 65534, 65534) == 0) }, "belongs to user 65534"),
        ]
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        for (name, make, says) in cases {
            make()
            let refused = try lab.run(arguments, environment: ["THREETOFU_CACHE": cache])
            #expect(refused.status == 2, "\(name): \(refused.stderr)")
            #expect(refused.stderr.contains(says), "\(name): \(refused.stderr)")
            #expect(refused.stderr.contains("THREETOFU_CACHE_SHARED=1"), "\(name): \(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        let shared = try lab.run(arguments, environment: ["THREETOFU_CACHE": cache, "THREETOFU_CACHE_SHARED": "1"])
        #expect(shared.status == 0, "\(shared.stderr)")
        // A cache 3tofu makes itself is private.
        let fresh = lab.home.file("fresh/cache")
        let made = try lab.run(arguments + ["--json"], environment: ["THREETOFU_CACHE": fresh])
        #expect(made.status == 0, "\(made.stderr)")
        var info = stat()
        #expect(stat(fresh, &info) == 0 && info.st_mode & 0o077 == 0, "mode \(String(info.st_mode & 0o777, radix: 8))")
    }

    /// Symbolic links anywhere in the cache.
    static func linksOrStrays(in cache: String) -> [String] {
        var found: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: cache) else { return ["cannot list \(cache)"] }
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(cache + "/" + relative, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFLNK { found.append("link: \(relative)") }
        }
        return found
    }
}
