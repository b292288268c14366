import ArgumentParser
import Artifacts
import Coordinator
import Foundation
import OCI

/// `3tofu pull`: resolve on every vantage, compare, and write the image only on agreement.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Verify a container image across vantages and write it as docker-archive or OCI.",
        discussion: """
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
              3tofu pull 127.0.0.1:5000/test/app:1 --insecure-registry 127.0.0.1:5000 --output app.tar

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
            """
    )

    @Argument(help: ArgumentHelp("Image reference, e.g. alpine:3.20, docker.io/library/nginx, ghcr.io/o/r@sha256:….", valueName: "reference"))
    var reference: String?

    @Option(name: .long, help: ArgumentHelp("Verify every image listed in this file (one reference per line, optionally a platform) and write them as one bundle.", valueName: "file"))
    var imagesFrom: String?

    @Option(name: .long, help: ArgumentHelp("With --images-from: images verified at once.", valueName: "n"))
    var concurrency = 3

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the image.", valueName: "path"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("docker-archive (default), oci (layout directory) or oci-archive.", valueName: "format"))
    var format: String = OutputFormat.dockerArchive.rawValue

    @Option(name: .long, help: ArgumentHelp("Platform to pick from a multi-platform image (default: this machine's).", valueName: "os/arch[/variant]"))
    var platform: String?

    @OptionGroup var common: CommonOptions

    func run() async throws {
        guard let outputFormat = OutputFormat(rawValue: format) else {
            throw ToolFailure(.badInput, "unknown --format '\(format)'; use one of \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let imagesFrom {
            guard reference == nil else {
                throw ToolFailure(.badInput, "give either an image REFERENCE or --images-from FILE, not both")
            }
            guard concurrency > 0 else { throw ToolFailure(.badInput, "--concurrency must be at least 1") }
            try await BundlePull(
                imagesFrom: imagesFrom, output: output, format: outputFormat, platform: platform, concurrency: concurrency, common: common
            ).run()
            return
        }
        guard let reference else {
            throw ToolFailure(.badInput, "give an image REFERENCE (e.g. `3tofu pull alpine:3.20 --output alpine.tar`) or --images-from FILE")
        }
        // Before any vantage is asked: an output that cannot be written is known now, not after
        // every layer has been downloaded.
        let output = ArtifactWriter.trimmingTrailingSlashes(output)
        do {
            try ArtifactWriter.checkDestination(output, format: outputFormat)
        } catch let error as ArtifactsError {
            throw ToolFailure(.badInput, "--output: \(error.message)")
        }
        let setup = try RunSetup(reference: reference, platform: platform, common: common)
        InterruptHandler.install(output: output)
        let request = PullRequest(
            reference: setup.reference, platform: setup.platform, vantages: setup.vantages, policy: setup.policy,
            insecureRegistries: setup.insecureRegistries, caCertificatePath: common.caCert, credentials: setup.credentials,
            storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, output: PullRequest.Output(path: output, format: outputFormat))
        let result = try await setup.execute(request)
        guard let written = result.written else {
            throw ToolFailure(.notMet, "nothing was written")
        }
        if common.json {
            try printJSON(
                PullSummary(
                    reference: setup.reference.description, digest: result.decision.agreed?.topDigest, verdict: result.decision.verdict.rawValue,
                    output: written.path, format: written.format.rawValue, sha256: written.sha256,
                    layersDownloaded: result.layersDownloaded, layersCached: result.layersCached, layersResumed: result.layersResumed,
                    layersStreamed: result.layersStreamed, bytesReceived: result.bytesReceived))
        } else {
            // An archive's SHA-256 (computed while writing it) lets the far side of an air gap check
            // the copy; an OCI layout is a directory, with no one hash to compare.
            let checksum = written.format == .oci || written.sha256.isEmpty ? "" : ", sha256 \(written.sha256)"
            Terminal.note("Wrote \(written.path) (\(written.format.rawValue)\(checksum)), verified by \(result.answeringCount) vantages.")
            print(setup.reference.pinned(to: try Digest(parsing: result.decision.agreed?.topDigest ?? "")).description)
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
    var layersDownloaded: Int
    var layersCached: Int
    var layersResumed: Int
    /// Layers written into the archive straight from their downloads, not read back from the cache.
    var layersStreamed: Int
    var bytesReceived: Int64
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
}
