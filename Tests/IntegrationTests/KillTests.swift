import Foundation
import Testing
import TestSupport

/// `3tofu pull` stopped from outside: SIGINT is answered promptly with a clear message and a clean
/// directory; SIGKILL at any moment (resolving, mid-blob, writing the archive) never leaves a
/// partial file at --output, never a blob in the store that misses its digest, and the rerun
/// downloads only what was not finished.
@Suite("killed pulls", .serialized)
struct KillTests {
    /// A running `3tofu pull` in its own process.
    final class Pull {
        let process = Process()
        let stderrPath: String
        let stdoutPath: String

        init(_ arguments: [String], home: String, cache: String, environment: [String: String] = [:]) throws {
            let name = UUID().uuidString.prefix(8)
            stderrPath = home + "/stderr-\(name).log"
            stdoutPath = home + "/stdout-\(name).log"
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
            process.executableURL = URL(fileURLWithPath: try ThreeTofuCLI.executable)
            process.arguments = arguments
            process.environment = ["PATH": "/usr/bin:/bin", "HOME": home, "THREETOFU_CACHE": cache].merging(environment) { _, new in new }
            process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
            process.standardError = FileHandle(forWritingAtPath: stderrPath)
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }
        var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
        var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }

        /// Signals this process inherited as blocked (a test runner may block SIGINT/SIGTERM in its threads).
        var blockedSignals: UInt64? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") })
            else { return nil }
            return UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16)
        }

        /// Polls `condition` every 2 ms while the process runs; true when it held before the process ended.
        func wait(until condition: () -> Bool, timeout: Double = 60) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline {
                if condition() { return true }
                usleep(2_000)
            }
            return false
        }
    }

    @Test func sigintAndSigkillAtEveryStageLoseNothingAndLetNothingThrough() async throws {
        let lab = try await Lab()
        // One big layer to interrupt, two small ones that finish first.
        let layout = try lab.makeImage(layers: [120_000_000, 2_000_000, 1_000_000], content: .incompressible)
        _ = try lab.push(layout, "kill/app", tag: "1")
        let vantages = try lab.vantagesFile()
        let output = lab.home.file("out.tar")
        let cache = lab.home.file("cache")
        let arguments = ["pull", "\(lab.registry.host)/kill/app:1", "--output", output, "--vantages", vantages, "--json"] + (try lab.registryOptions())
        let bigLayer = layout.images[0].layers[0]

        // SIGINT mid-blob: exit 130 within 5 s, "interrupted", nothing at --output, no temporaries.
        let interrupted = try Pull(arguments, home: lab.home.path, cache: cache)
        // Spawned from a test-runner thread, the CLI inherits a mask that blocks SIGINT; its handler
        // (a dispatch signal source, read through signalfd on Linux) must answer it all the same.
        let inheritedMask = interrupted.blockedSignals.map { String($0, radix: 16) } ?? "unknown"
        let reached = interrupted.wait(until: { (Self.size(Self.partial(of: bigLayer.digest, in: cache)) ?? 0) > 2_000_000 })
        #expect(reached, "the pull ended before the big layer was half way: \(interrupted.stderr)")
        let sentAt = Date()
        kill(interrupted.pid, SIGINT)
        interrupted.process.waitUntilExit()
        #expect(Date().timeIntervalSince(sentAt) < 5)
        #expect(interrupted.process.terminationStatus == 130, "SigBlk \(inheritedMask): \(interrupted.stderr)")
        #expect(interrupted.stderr.contains("interrupted"), "\(interrupted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
        try Self.expectStoreIntact(cache)

        // SIGKILL while resolving (before any blob is touched), then mid-blob.
        let stages: [(String, () -> Bool)] = [
            ("resolving", { usleep(UInt32.random(in: 20_000...120_000)); return true }),
            ("mid-blob", { (Self.size(Self.partial(of: bigLayer.digest, in: cache)) ?? 0) > 30_000_000 + Int64.random(in: 0...40_000_000) }),
        ]
        for (stage, condition) in stages {
            try Self.killedPull(arguments, lab: lab, cache: cache, output: output, stage: stage, at: condition)
        }

        // The rerun resumes the big layer and keeps the finished ones.
        let resumed = try lab.run(arguments, environment: ["THREETOFU_CACHE": cache])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let first = try JSONSerialization.jsonObject(with: Data(resumed.stdout.utf8)) as? [String: Any]
        #expect(first?["layersCached"] as? Int == 2, "\(resumed.stdout)")
        #expect(first?["layersResumed"] as? Int == 1, "\(resumed.stdout)")
        #expect(((first?["bytesReceived"] as? Int) ?? .max) < bigLayer.size, "\(resumed.stdout)")
        try FileManager.default.removeItem(atPath: output)

        // SIGKILL while the archive is being written: everything is in the store already.
        try Self.killedPull(arguments, lab: lab, cache: cache, output: output, stage: "writing the archive") {
            temporaryLeftovers(in: lab.home.path).contains { (Self.size(lab.home.file($0)) ?? 0) > 1_000_000 }
        }
        let rerun = try lab.run(arguments, environment: ["THREETOFU_CACHE": cache])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any]
        #expect(summary?["layersDownloaded"] as? Int == 0, "\(rerun.stdout)")
        #expect(summary?["layersCached"] as? Int == 3, "\(rerun.stdout)")
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"]).status == 0)
        // The temporary the killed writer left behind was cleared by the next write.
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty, "\(temporaryLeftovers(in: lab.home.path))")
    }

    /// The multi-GB case: a 2.1 GB image in three layers, killed with SIGKILL at three
    /// random points and interrupted with SIGINT at a fourth, then pulled to the end. Each stop
    /// leaves nothing at --output and a store whose every blob matches its digest; the last run
    /// downloads only what no earlier run finished.
    @Test func multiGigabytePullStoppedAtRandomPoints() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [1_250_000_000, 820_000_000, 40_000_000], content: .incompressible, gzipLevel: 0)
        _ = try lab.push(layout, "kill/huge", tag: "1")
        try? FileManager.default.removeItem(atPath: layout.layoutPath)  // the registry has it; free the disk
        let layers = layout.images[0].layers
        let total = layers.reduce(Int64(0)) { $0 + Int64($1.size) }
        #expect(total > 2_000_000_000)
        let vantages = try lab.vantagesFile()
        let output = lab.home.file("huge.tar")
        let cache = lab.home.file("cache")
        let arguments = ["pull", "\(lab.registry.host)/kill/huge:1", "--output", output, "--vantages", vantages, "--json"] + (try lab.registryOptions())

        // Each stop lands somewhere in the next 10-45 % of what is still missing.
        func randomPoint() -> Int64 {
            let done = Self.cacheBytes(cache)
            let left = max(0, total - done)
            return done + Int64.random(in: (left / 10)...(left * 45 / 100))
        }
        for round in 1...3 {
            let point = randomPoint()
            try Self.killedPull(arguments, lab: lab, cache: cache, output: output, stage: "round \(round), at \(point) of \(total) bytes") {
                Self.cacheBytes(cache) >= point
            }
        }

        let point = randomPoint()
        let interrupted = try Pull(arguments, home: lab.home.path, cache: cache)
        let reached = interrupted.wait(until: { Self.cacheBytes(cache) >= point })
        #expect(reached, "the pull ended before \(point) of \(total) bytes: \(interrupted.stderr)")
        let sentAt = Date()
        kill(interrupted.pid, SIGINT)
        interrupted.process.waitUntilExit()
        #expect(Date().timeIntervalSince(sentAt) < 5, "SIGINT took \(Date().timeIntervalSince(sentAt)) s to end the pull")
        #expect(interrupted.process.terminationStatus == 130, "\(interrupted.stderr)")
        #expect(interrupted.stderr.contains("interrupted"), "\(interrupted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty, "SIGINT removes the staged archive: \(temporaryLeftovers(in: lab.home.path))")
        try Self.expectStoreIntact(cache)

        // What is finished stays finished: the last run downloads at most the rest.
        let finished = layers.filter { Self.size(Self.blob($0.digest, in: cache)) == Int64($0.size) }
        let finishedBytes = finished.reduce(Int64(0)) { $0 + Int64($1.size) }
        let last = try lab.run(arguments, environment: ["THREETOFU_CACHE": cache])
        #expect(last.status == 0, "\(last.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(last.stdout.utf8)) as? [String: Any]
        #expect(summary?["layersCached"] as? Int == finished.count, "\(last.stdout)")
        let received = (summary?["bytesReceived"] as? Int).map(Int64.init) ?? .max
        #expect(received <= total - finishedBytes, "received \(received) bytes, \(total - finishedBytes) were still missing")
        let inspected = try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        // skopeo lists a docker-archive's layers by their uncompressed digests (diff IDs).
        for layer in layers {
            #expect(inspected.stdout.contains(layer.diffID), "layer \(layer.digest) (diff ID \(layer.diffID)) in the written archive")
        }
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty, "\(temporaryLeftovers(in: lab.home.path))")
        try Self.expectStoreIntact(cache)
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: cache)
    }

    static func killedPull(_ arguments: [String], lab: Lab, cache: String, output: String, stage: String, at condition: () -> Bool) throws {
        let pull = try Pull(arguments, home: lab.home.path, cache: cache)
        let hit = pull.wait(until: condition)
        kill(pull.pid, SIGKILL)
        pull.process.waitUntilExit()
        #expect(hit, "the pull ended before the kill point '\(stage)': \(pull.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output), "a file appeared at --output after SIGKILL while \(stage)")
        try expectStoreIntact(cache)
    }

    /// Every file under blobs/ hashes to its own name (sha256sum reads them: no blob in memory).
    static func expectStoreIntact(_ cache: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let directory = cache + "/blobs/sha256"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let line = try Shell.check(["sha256sum", directory + "/" + name])
            #expect(line.split(separator: " ").first.map(String.init) == name, "blobs/sha256/\(name) does not match its digest", sourceLocation: sourceLocation)
        }
    }

    /// Bytes under the cache's blobs/ and ingest/: how far a pull has come, whichever layers it is on.
    static func cacheBytes(_ cache: String) -> Int64 {
        ["/blobs/sha256", "/ingest"].reduce(0) { total, folder in
            let directory = cache + folder
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return total + names.reduce(0) { $0 + (size(directory + "/" + $1) ?? 0) }
        }
    }

    static func partial(of digest: String, in cache: String) -> String {
        cache + "/ingest/" + digest.replacingOccurrences(of: "sha256:", with: "") + ".partial"
    }

    static func blob(_ digest: String, in cache: String) -> String {
        cache + "/blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: "")
    }

    static func size(_ path: String) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
    }
}
