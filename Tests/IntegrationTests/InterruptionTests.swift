import Foundation
import Testing
import TestSupport

/// A pull killed half way leaves nothing at --output; the next run resumes the partial blob and
/// does not download finished ones again.
@Suite("interrupted pull", .serialized)
struct InterruptionTests {
    @Test func killedPullLeavesNothingAndTheRerunResumes() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [160_000_000], content: .incompressible)
        _ = try lab.push(layout, "big/app", tag: "1")
        let vantages = try lab.vantagesFile()
        let output = lab.home.file("big.tar")
        let cache = lab.home.file("cache")
        let arguments = ["pull", "\(lab.registry.host)/big/app:1", "--output", output, "--vantages", vantages, "--json"] + (try lab.registryOptions())

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ThreeTofuCLI.executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "HOME": lab.home.path, "THREETOFU_CACHE": cache]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let layerSize = Int64(layout.images[0].layers[0].size)
        var killedAt: Int64 = 0
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline {
            if let partial = Self.partialFiles(in: cache).first, let size = Self.size(partial), size > 1_000_000, size < layerSize - 1_000_000 {
                kill(process.processIdentifier, SIGKILL)
                killedAt = size
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        #expect(killedAt > 0, "the pull finished before it could be interrupted")
        #expect(!FileManager.default.fileExists(atPath: output))
        // The archive is assembled while layers download, at a hidden temporary next to the
        // output; SIGKILL leaves no chance to remove it. It carries the dead process's pid, and
        // the next run removes it before it writes.
        let abandoned = temporaryLeftovers(in: lab.home.path)
        #expect(abandoned.allSatisfy { $0.hasPrefix(".big.tar.3tofu-tmp-\(process.processIdentifier)-") }, "\(abandoned)")

        let rerun = try lab.run(arguments)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(rerun.stdout.utf8)) as? [String: Any]
        #expect(summary?["layersResumed"] as? Int == 1, "\(rerun.stdout)")
        let received = (summary?["bytesReceived"] as? Int).map(Int64.init) ?? -1
        #expect(received < layerSize, "the rerun downloaded \(received) bytes of a \(layerSize)-byte layer")
        #expect(try Shell.run(["skopeo", "inspect", "docker-archive:\(output)"]).status == 0)
        #expect(Self.partialFiles(in: cache).isEmpty)
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty, "the rerun removed the killed run's temporary")
    }

    static func partialFiles(in directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".partial") }.map { directory + "/" + $0 }
    }

    static func size(_ path: String) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
    }
}
