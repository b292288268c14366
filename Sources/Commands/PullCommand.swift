import ArgumentParser
import Artifacts
import Coordinator
import Foundation
import OCI
import Report
#if canImport(Glibc)
import Glibc
#endif

/// `3tofu pull`: resolve on every vantage, compare, and write the image only on agreement.
struct PullCommand: AsyncParsableCommand, ResultCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Verify a container image across vantages and write it as docker-archive or OCI.",
        discussion: HelpText.wrap("""
            Every vantage resolves REFERENCE on its own (its own token, index and manifest). When all \
            answering vantages agree on the digests, the layers are downloaded once, each checked against \
            its agreed digest and size, and the image is written to --output. When they disagree, nothing \
            is written and the command exits 1 naming which vantage saw what.

            The output appears only when complete: an interrupted or refused pull leaves nothing at \
            --output. Verified blobs stay in the cache, so a second pull downloads no layer again and an \
            interrupted download resumes.

            EXAMPLES
              3tofu pull alpine:3.20 --output alpine.tar
                  docker-archive for `docker load -i alpine.tar` or `podman load -i alpine.tar`
              3tofu pull ghcr.io/org/app@sha256:… --format oci --output ./layout
              3tofu pull nginx --platform linux/arm64 --vantages ~/vantages.toml --output nginx.tar
              3tofu pull nginx --all-platforms --format oci --output ./nginx-all
                  every platform of the index, attestations kept (oci or oci-archive)
              3tofu pull 127.0.0.1:5000/test/app:1 --insecure-registry 127.0.0.1:5000 --output app.tar
              3tofu pull alpine:3.20 --output - | docker load
                  the archive on stdout (docker-archive or oci-archive), sent only after it is complete and \
            every layer matched its digest; nothing else is printed on stdout (the pinned reference goes to \
            stderr). Refused when stdout is a terminal and with --format oci.

            --output never replaces a device, FIFO or socket (e.g. /dev/null): to verify without writing, use \
            `3tofu resolve`; to pass the archive on, use --output -. --output, --report and --attestation are \
            all checked before any vantage is asked, so a path that cannot be written fails at once (exit 2).

            BUNDLES
              --images-from FILE (instead of REFERENCE) verifies every image listed in FILE, one reference \
            per line, optionally followed by a platform (`alpine:3.20 linux/arm64`; otherwise --platform or \
            this machine's); `#` starts a comment. A few images are verified at a time (--concurrency). Only \
            when every image agrees are the layers downloaded and all images written into one output: an OCI \
            layout (--format oci; --output must be new or an empty directory) or one archive for a single \
            `docker load` / `podman load` (--format docker-archive). Blobs shared by images are stored once. In \
            the bundle's index.json each image's ref.name is its full name (alpine:3.20), so \
            `skopeo inspect oci:DIR:alpine:3.20` works. --report R.json writes one report per image, \
            R.<n>-<name>.json (n counts from 1 in the file's order; characters other than letters, digits, \
            '.', '_' and '-' become '_').
              3tofu pull --images-from images.txt --format oci --output bundle --report reports/r.json
            """ + LoginOptions.discussion)
    )

    @Argument(help: ArgumentHelp("Image reference, e.g. alpine:3.20, docker.io/library/nginx, ghcr.io/o/r@sha256:….", valueName: "reference"))
    var reference: String?

    @Option(name: .long, help: ArgumentHelp("Verify every image listed in this file (one reference per line, optionally a platform) and write them as one bundle.", valueName: "file"))
    var imagesFrom: String?

    @Option(name: .long, help: ArgumentHelp("With --images-from: images verified at once.", valueName: "n"))
    var concurrency = 3

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the image; - writes the archive to stdout once it is verified.", valueName: "path"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("docker-archive (default), oci (layout directory) or oci-archive.", valueName: "format"))
    var format: String = OutputFormat.dockerArchive.rawValue

    @Option(name: .long, help: ArgumentHelp("Platform to pick from a multi-platform image (default: this machine's).", valueName: "os/arch[/variant]"))
    var platform: String?

    @Flag(name: .long, help: "Every platform of a multi-platform image: the whole index (attestations kept), compared on every vantage; --format oci or oci-archive.")
    var allPlatforms = false

    @OptionGroup var common: CommonOptions

    @OptionGroup(title: "Logins") var login: LoginOptions

    var resultName: String { imagesFrom == nil ? "pull" : "bundle" }

    /// With `--output -` stdout is the archive's alone (--json is refused then, and says so on stderr).
    var printsDocument: Bool { common.json && output != "-" }

    func run() async throws {
        guard let outputFormat = OutputFormat(rawValue: format) else {
            throw ToolFailure(.badInput, "unknown --format '\(format)'; use one of \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if allPlatforms {
            try Self.checkAllPlatforms(format: outputFormat, platform: platform, imagesFrom: imagesFrom, output: output)
        }
        if let imagesFrom {
            guard reference == nil else {
                throw ToolFailure(.badInput, "give either an image REFERENCE or --images-from FILE, not both")
            }
            guard concurrency > 0 else { throw ToolFailure(.badInput, "--concurrency must be at least 1") }
            guard output != "-" else {
                throw ToolFailure(.badInput, "--output - (the archive on stdout) is for one image; give a file or directory for an --images-from bundle")
            }
            try await BundlePull(
                imagesFrom: imagesFrom, output: output, format: outputFormat, platform: platform, concurrency: concurrency, common: common, login: login,
                allPlatforms: allPlatforms
            ).run()
            return
        }
        guard let reference else {
            throw ToolFailure(.badInput, "give an image REFERENCE (e.g. `3tofu pull alpine:3.20 --output alpine.tar`) or --images-from FILE")
        }
        let toStdout = output == "-"
        if toStdout, let refusal = StdoutOutput.refusal(format: outputFormat, json: common.json, stdoutIsTerminal: Terminal.stdoutIsTerminal) {
            throw ToolFailure(.badInput, refusal)
        }
        let output = ArtifactWriter.trimmingTrailingSlashes(output)
        let setup = try RunSetup(reference: reference, platform: platform, common: common, login: login)
        // Before any vantage is asked: an output, report or attestation that cannot be written is
        // known now, not after every layer has been downloaded.
        var targets = WriteTargets()
        if !toStdout {
            targets.add(
                "--output", output, format: outputFormat,
                specialAdvice: "to verify without writing anything, run `3tofu resolve \(reference)`; to send the archive to another program, "
                    + "use `--output -` (e.g. `3tofu pull \(reference) --output - | docker load`)")
        }
        targets.addReports(setup.reportOutputs)
        try targets.check()
        try setup.shared.checkVantages()

        // The image and its report are kept only if the whole run succeeds.
        try await RunJournal.run { journal in
            let stdout = toStdout ? try StdoutOutput(storeRoot: setup.storeRoot) : nil
            let destination = stdout?.stagingPath ?? output
            InterruptHandler.install(output: destination, staged: stdout?.stagingPath)
            var request = PullRequest(
                reference: setup.reference, platform: setup.platform, vantages: setup.vantages, policy: setup.policy,
                insecureRegistries: setup.insecureRegistries, caCertificatePath: common.caCert, credentials: setup.credentials,
                storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, output: PullRequest.Output(path: destination, format: outputFormat, journal: journal))
            request.allPlatforms = allPlatforms
            request.history = try setup.loadHistory()
            let result: PullResult
            do {
                result = try await setup.execute(request, journal: journal, outputShownAs: stdout == nil ? nil : "-")
            } catch {
                if let stdout { unlink(stdout.stagingPath) }
                throw error
            }
            guard let written = result.written else {
                if let stdout { unlink(stdout.stagingPath) }
                throw ToolFailure(.notMet, "nothing was written")
            }
            let pinned = setup.reference.pinned(to: try Digest(parsing: result.decision.agreed?.topDigest ?? "")).description
            if let stdout {
                // Only now, with every layer verified and the archive complete, does stdout get a byte.
                try stdout.deliver(sha256: written.sha256)
                Terminal.note("Wrote the archive to stdout (\(written.format.rawValue), sha256 \(written.sha256)), verified by \(result.answeringCount) vantages.")
                Terminal.note(pinned)
                return
            }
            if let document = ResultDocument.current {
                document.addWritten(written)
                document.setDetails(
                    PullSummary(
                        reference: setup.reference.description, digest: result.decision.agreed?.topDigest, verdict: result.decision.verdict.rawValue,
                        output: written.path, format: written.format.rawValue, sha256: written.sha256,
                        manifestWritten: written.manifestDigestWritten.string, convertedFrom: written.convertedFrom?.string,
                        layersDownloaded: result.layersDownloaded, layersCached: result.layersCached, layersResumed: result.layersResumed,
                        layersStreamed: result.layersStreamed, bytesReceived: result.bytesReceived,
                        blobRoutes: AgreementReport.RouteBytes.list(result.bytesByRoute, order: result.vantages.map(\.spec.name)) ?? []))
            } else {
                // An archive's SHA-256 (computed while writing it) lets the far side of an air gap check
                // the copy; an OCI layout is a directory, with no one hash to compare.
                let checksum = written.format == .oci || written.sha256.isEmpty ? "" : ", sha256 \(written.sha256)"
                Terminal.note("Wrote \(written.path) (\(written.format.rawValue)\(checksum)), verified by \(result.answeringCount) vantages.")
                Terminal.out(pinned)
            }
        }
    }

    /// `--all-platforms` before any network work: an output that can hold an index, no platform to
    /// pick, and a layout at a new path or an empty directory (a bundle checks its own).
    static func checkAllPlatforms(format: OutputFormat, platform: String?, imagesFrom: String?, output: String) throws {
        do {
            try IndexLayoutWriter.checkFormat(format)
        } catch let error as ArtifactsError {
            throw ToolFailure(.badInput, error.message)
        }
        if platform != nil {
            throw ToolFailure(.badInput, "--all-platforms takes every platform of the index; drop --platform, or drop --all-platforms to pull one platform")
        }
        if format == .oci, output != "-", imagesFrom == nil {
            do {
                try IndexLayoutWriter.checkLayoutTarget(ArtifactWriter.trimmingTrailingSlashes(output))
            } catch let error as ArtifactsError {
                throw ToolFailure(.badInput, error.message)
            }
        }
    }
}

struct PullSummary: Encodable {
    var reference: String
    var digest: String?
    var verdict: String
    var output: String
    var format: String
    var sha256: String?
    /// The digest of the manifest in the output: the agreed platform manifest's, or its OCI
    /// conversion's when a Docker manifest was written as OCI (then `convertedFrom` is the
    /// verified Docker manifest's digest).
    var manifestWritten: String
    var convertedFrom: String?
    var layersDownloaded: Int
    var layersCached: Int
    var layersResumed: Int
    /// Layers written into the archive straight from their downloads, not read back from the cache.
    var layersStreamed: Int
    var bytesReceived: Int64
    /// The bytes each vantage's route carried of the downloaded blobs, in the vantages' order.
    /// (The report's `blobRoutes` are the same list.)
    var blobRoutes: [AgreementReport.RouteBytes] = []
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    Terminal.outJSON(String(decoding: data, as: UTF8.self))
}
