import Foundation
import Report
import Testing
import TestSupport

/// What a run writes, and what `report verify` reads, against a real registry and nginx: outputs
/// never replace a device, FIFO or socket; `--output -` gives stdout the verified archive and
/// nothing else; every path a run writes is checked before any vantage is asked; `report verify`
/// never waits on a FIFO or follows a link out of a layout, and reads a report within a cap.
@Suite("outputs and side files", .serialized)
struct OutputSafetyTests {
    /// A FIFO, a socket and (as root) a character device at --output: refused before anything is
    /// asked, left as they were, with what to do instead.
    @Test func pullNeverReplacesADeviceFIFOOrSocket() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [20_000])
        _ = try lab.push(layout, "special/app", tag: "1")
        var specials: [(path: String, type: String)] = []
        let fifo = lab.home.file("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        specials.append((fifo, "FIFO"))
        let socket = lab.home.file("sock")
        try Shell.check(["python3", "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socket])
        specials.append((socket, "socket"))
        let device = lab.home.file("full")
        if getuid() == 0, (try? Shell.run(["mknod", device, "c", "1", "7"]))?.status == 0 {
            specials.append((device, "character device"))
        }
        for special in specials {
            let before = try FileManager.default.attributesOfItem(atPath: special.path)[.type] as? FileAttributeType
            let result = try lab.run(
                ["pull", "\(lab.registry.host)/special/app:1", "--output", special.path, "--vantages", try lab.vantagesFile()] + lab.registryOptions(),
                timeout: .seconds(120))
            #expect(result.status == 2, "\(special.type): \(result.stderr)")
            #expect(result.stderr.contains("is a \(special.type)"), "\(result.stderr)")
            #expect(result.stderr.contains("3tofu resolve") && result.stderr.contains("--output -"), "says what to do instead: \(result.stderr)")
            let after = try FileManager.default.attributesOfItem(atPath: special.path)[.type] as? FileAttributeType
            #expect(after == before && after != .typeRegular, "\(special.path) is still the \(special.type)")
        }
        #expect(temporaryLeftovers(in: lab.home.path).isEmpty)
    }

    /// `--output -`: stdout is the archive and nothing else, only after it was verified; skopeo
    /// reads it; the report names `-` and the archive's SHA-256; the pinned reference is on stderr.
    @Test func pullToStdoutWritesOnlyTheVerifiedArchive() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [200_000, 30_000])
        _ = try lab.push(layout, "stdout/app", tag: "1")
        let reference = "\(lab.registry.host)/stdout/app:1"
        let workDirectory = lab.home.file("work")
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let reportPath = lab.home.file("report.json")
        for format in ["docker-archive", "oci-archive"] {
            let result = try lab.run(
                ["pull", reference, "--output", "-", "--format", format, "--report", reportPath, "--vantages", try lab.vantagesFile()]
                    + lab.registryOptions(),
                workingDirectory: workDirectory)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("\(reference)@\(layout.topDigest)\n"), "the pinned reference is on stderr: \(result.stderr)")
            #expect(result.stderr.contains("verdict: AGREE"))
            let archive = lab.home.file("from-stdout.\(format).tar")
            try result.stdoutData.write(to: URL(fileURLWithPath: archive))
            let inspect = try Shell.run(["skopeo", "inspect", "\(format):\(archive)"])
            #expect(inspect.status == 0, "stdout is a whole \(format) and nothing else: \(inspect.stderr)")
            let info = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
            #expect((info?["Layers"] as? [String])?.count == 2)
            let report = try ReportFile.read(reportPath)
            #expect(report.artifact?.path == "-")
            #expect(report.artifact?.sha256 == (try Shell.sha256Hex(result.stdoutData)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: workDirectory).isEmpty, "no file named - was made")
        }
        // Nothing staged for stdout is left in the cache.
        let staging = lab.home.file("cache/staging")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []).isEmpty)

        // Refused: a directory format, --json (which also uses stdout), a bundle.
        for arguments in [["--format", "oci"], ["--json"]] {
            let refused = try lab.run(["pull", reference, "--output", "-", "--vantages", try lab.vantagesFile()] + arguments + lab.registryOptions())
            #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
            #expect(refused.stdoutData.isEmpty)
        }
    }

    /// `--output -` with stdout on a terminal (a pty from script(1)) is refused: a tar is not for the screen.
    @Test func pullToStdoutRefusesATerminal() async throws {
        let home = try TemporaryDirectory(prefix: "tty")
        let command = [try ThreeTofuCLI.executable, "pull", "127.0.0.1:9/none:1", "--output", "-"].joined(separator: " ")
        let result = try Shell.run(["script", "-qec", command, "/dev/null"], env: ["HOME": home.path, "THREETOFU_CACHE": home.file("cache")], timeout: .seconds(60))
        #expect(result.stdout.contains("which is a terminal here"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: home.file("cache/staging")))
    }

    /// A --report or --attestation that cannot be written is refused before any vantage is asked:
    /// exit 2, and the output is not written (it used to be written, then exit 3 without a verdict).
    @Test func unwritableReportOrAttestationStopsThePullBeforeAnythingIsWritten() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [20_000])
        _ = try lab.push(layout, "side/app", tag: "1")
        let fifo = lab.home.file("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let directory = lab.home.file("a-directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let cases: [(arguments: [String], mentions: String)] = [
            (["--report", lab.home.file("missing/report.json")], "--report: cannot write"),
            (["--report", fifo], "--report: \(fifo) is a FIFO"),
            (["--attestation", directory], "--attestation: \(directory) is a directory"),
            (["--report", lab.home.file("same.tar")], "both name"),
        ]
        for (index, c) in cases.enumerated() {
            let output = index == 3 ? lab.home.file("same.tar") : lab.home.file("out-\(index).tar")
            let result = try lab.run(
                ["pull", "\(lab.registry.host)/side/app:1", "--output", output, "--vantages", try lab.vantagesFile()] + c.arguments + lab.registryOptions())
            #expect(result.status == 2, "\(c.arguments): \(result.stderr)")
            #expect(result.stderr.contains(c.mentions), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: output), "nothing was written to \(output)")
        }
        // A bundle checks each image's report path; the output stays unwritten.
        let list = lab.home.file("images.txt")
        try "\(lab.registry.host)/side/app:1\n".write(toFile: list, atomically: true, encoding: .utf8)
        let bundleOutput = lab.home.file("bundle.tar")
        let bundle = try lab.run(
            ["pull", "--images-from", list, "--output", bundleOutput, "--report", lab.home.file("missing/r.json"), "--vantages", try lab.vantagesFile()]
                + lab.registryOptions())
        #expect(bundle.status == 2, "\(bundle.stderr)")
        #expect(bundle.stderr.contains("missing/r.1-"), "\(bundle.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bundleOutput))
    }

    /// The same for fetch: the file is not fetched and not written when its report cannot be.
    @Test func fetchChecksItsReportAndOutputFirst() async throws {
        let site = try await FetchTests.Site()
        defer { site.stop() }
        let output = site.lab.home.file("tool.tar.gz")
        let result = try site.lab.run([
            "fetch", site.fileURL, "--output", output, "--report", site.lab.home.file("missing/r.json"), "--vantages", try site.lab.vantagesFile(),
        ])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("--report: cannot write"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        let fifo = site.lab.home.file("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let special = try site.lab.run(["fetch", site.fileURL, "--output", fifo, "--vantages", try site.lab.vantagesFile()])
        #expect(special.status == 2, "\(special.stderr)")
        #expect(special.stderr.contains("is a FIFO"), "\(special.stderr)")
        let type = try FileManager.default.attributesOfItem(atPath: fifo)[.type] as? FileAttributeType
        #expect(type != .typeRegular)
    }

    /// `report verify` with a FIFO as the artifact or the report, and with a report past the cap:
    /// each a clear failure within seconds (a FIFO used to hang it; a huge report filled memory).
    @Test func reportVerifyNeverWaitsOnAFIFOOrReadsAnOversizedReport() async throws {
        let lab = try await Lab()
        let (_, directory, reportPath) = try Self.pulledLayoutWithReport(lab, repository: "verify/app")
        let good = try lab.run(["report", "verify", reportPath, "--artifact", directory], timeout: .seconds(60))
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")

        let fifo = lab.home.file("pipe")
        #expect(mkfifo(fifo, 0o644) == 0)
        let onFIFO = try lab.run(["report", "verify", reportPath, "--artifact", fifo], timeout: .seconds(60))
        #expect(onFIFO.status == 1, "\(onFIFO.stdout)\(onFIFO.stderr)")
        #expect(onFIFO.stdout.contains("is a FIFO"), "\(onFIFO.stdout)")
        let reportFIFO = try lab.run(["report", "verify", fifo], timeout: .seconds(60))
        #expect(reportFIFO.status == 2 && reportFIFO.stderr.contains("is a FIFO"), "\(reportFIFO.stderr)")

        // A report past the documented cap is refused before it is parsed.
        let big = lab.home.file("big.json")
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, off_t((16 << 20) + 1)) == 0, "one byte past ReportFile.maximumSize")
        let oversized = try lab.run(["report", "verify", big], timeout: .seconds(60))
        #expect(oversized.status == 2, "\(oversized.stderr)")
        #expect(oversized.stderr.contains("is larger than 16 MiB"), "\(oversized.stderr)")
    }

    /// An OCI layout whose blobs were replaced by a FIFO and by a link to /dev/zero: both are
    /// failed checks, named, within seconds (the FIFO used to hang the open, the link to read forever).
    @Test func reportVerifyNeverReadsAFIFOOrALinkInsideALayout() async throws {
        let lab = try await Lab()
        let (layout, directory, reportPath) = try Self.pulledLayoutWithReport(lab, repository: "verify/layout")
        let layers = layout.images[0].layers.map { $0.digest.replacingOccurrences(of: "sha256:", with: "") }
        let first = "\(directory)/blobs/sha256/\(layers[0])"
        let second = "\(directory)/blobs/sha256/\(layers[1])"
        try FileManager.default.removeItem(atPath: first)
        #expect(mkfifo(first, 0o644) == 0)
        try FileManager.default.removeItem(atPath: second)
        try FileManager.default.createSymbolicLink(atPath: second, withDestinationPath: "/dev/zero")
        let tampered = try lab.run(["report", "verify", reportPath, "--artifact", directory], timeout: .seconds(60))
        #expect(tampered.status == 1, "\(tampered.stdout)\(tampered.stderr)")
        #expect(tampered.stdout.contains("blobs/sha256/\(layers[0]) is a FIFO"), "\(tampered.stdout)")
        #expect(tampered.stdout.contains("blobs/sha256/\(layers[1]): it is a symbolic link"), "\(tampered.stdout)")

        // In an archive, a member that is a link (which `docker load` would follow) is a failed check.
        let archive = lab.home.file("app.tar")
        let archiveReport = lab.home.file("archive-report.json")
        let archived = try lab.run(
            ["pull", "\(lab.registry.host)/verify/layout:1", "--output", archive, "--report", archiveReport, "--vantages", try lab.vantagesFile()]
                + lab.registryOptions())
        #expect(archived.status == 0, "\(archived.stderr)")
        let unpacked = lab.home.file("unpacked")
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        try Shell.check(["tar", "-xf", archive, "-C", unpacked])
        try FileManager.default.removeItem(atPath: "\(unpacked)/blobs/sha256/\(layers[0])")
        try FileManager.default.createSymbolicLink(atPath: "\(unpacked)/blobs/sha256/\(layers[0])", withDestinationPath: "/etc/passwd")
        let linked = lab.home.file("linked.tar")
        try Shell.check(["tar", "-cf", linked, "-C", unpacked, "."])
        let withLink = try lab.run(["report", "verify", archiveReport, "--artifact", linked], timeout: .seconds(60))
        #expect(withLink.status == 1, "\(withLink.stdout)\(withLink.stderr)")
        #expect(withLink.stdout.contains("member blobs/sha256/\(layers[0]) is a symbolic link"), "\(withLink.stdout)")
    }

    /// A two-layer image pushed to `repository`, pulled as an OCI layout with its report.
    static func pulledLayoutWithReport(
        _ lab: Lab, repository: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (layout: TestImageLayout, directory: String, reportPath: String) {
        let layout = try lab.makeImage(layers: [20_000, 10_000])
        _ = try lab.push(layout, repository, tag: "1")
        let directory = lab.home.file("layout")
        let reportPath = lab.home.file("report.json")
        let pulled = try lab.run(
            ["pull", "\(lab.registry.host)/\(repository):1", "--format", "oci", "--output", directory, "--report", reportPath, "--vantages",
             try lab.vantagesFile()] + lab.registryOptions())
        #expect(pulled.status == 0, "\(pulled.stderr)", sourceLocation: sourceLocation)
        return (layout, directory, reportPath)
    }
}
