import Agreement
import Artifacts
import Coordinator
import Foundation
import OCI
import Report

/// `3tofu pull --images-from FILE`: verifies every listed image and writes them as one bundle
/// (OCI layout, docker-archive or oci-archive) only when every image agrees. One report per image
/// (`--report R.json` → `R.<n>-<name>.json`), a summary table on stderr, and the exit code of the
/// worst outcome: dissent (1) before bad input (2) before anything else (3).
struct BundlePull {
    var imagesFrom: String
    var output: String
    var format: OutputFormat
    var platform: String?
    var concurrency: Int
    var common: CommonOptions
    var login: LoginOptions
    /// `--all-platforms`: every image's whole index (every platform, attestations kept).
    var allPlatforms = false

    func run() async throws {
        let list = try ImagesFile.load(path: imagesFrom)
        if allPlatforms, let entry = list.entries.first(where: { $0.platform != nil }) {
            throw ToolFailure(
                .badInput,
                "\(imagesFrom):\(entry.line): a platform is given for \(entry.text), but --all-platforms takes every platform of each image; remove it from the line, or drop --all-platforms")
        }
        let defaultPlatform = try platform.map { try Platform(parsing: $0) } ?? Platform.host
        var setup = try VantageSetup(common: common)
        let reportOutputs = try ReportOutputs(common: common)
        let history = try HistoryAccess(common: common)
        var targets = WriteTargets()
        targets.add("--output", output, format: format)
        targets.addReports(reportOutputs) { path in
            list.entries.enumerated().map { index, entry in Self.perImagePath(path, number: index + 1, name: entry.text) }
        }
        try targets.check()
        try setup.checkVantages()
        try Self.checkNewLayout(output, format: format)
        setup.credentials = try Logins.resolve(login, names: list.entries.map(\.reference.name))
        InterruptHandler.install(output: output)

        // The bundle and its reports are kept only if the whole run succeeds.
        try await RunJournal.run { journal in
            let requests = try list.entries.map { entry in
                var request = PullRequest(
                    reference: entry.reference, platform: entry.platform ?? defaultPlatform, vantages: setup.vantages, policy: setup.policy,
                    insecureRegistries: setup.insecureRegistries, caCertificatePath: setup.caCert, credentials: setup.credentials,
                    storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, output: nil)
                request.allPlatforms = allPlatforms
                request.history = try history.load(
                    .init(kind: .image, reference: request.reference.description, platform: request.platform.description), policy: setup.policy)
                return request
            }
            let count = requests.count
            let entries = list.entries
            Terminal.note("verifying \(count) images from \(imagesFrom), \(concurrency) at a time, on \(setup.vantages.count) vantages")
            let results = try await ProgressPrinter.showing(exchanges: common.showsExchanges) { events in
                var bundle = BundleRequest(images: requests, output: PullRequest.Output(path: output, format: format, journal: journal), concurrency: concurrency)
                bundle.events = events
                return try await BundleCoordinator.run(bundle) { index, result in
                    let digest = (result.decision.agreed?.topDigest).map { " " + $0 } ?? ""
                    ProgressPrinter.note("  \(entries[index].text): \(result.decision.verdict.rawValue.uppercased())\(digest)")
                }
            }
            let written = results.allSatisfy { $0.written != nil }
            for result in results { ResultDocument.current?.add(result) }

            var reportPaths: [String?] = Array(repeating: nil, count: results.count)
            let reports = results.map { result in
                history.record(
                    ReportBuilder.make(result, toolVersion: ThreeTofu.version, createdAt: result.request.history?.now ?? Date()), history: result.request.history)
            }
            if reportOutputs.wanted {
                if !written, reportOutputs.attestationPath != nil {
                    Terminal.note("No attestations written: the bundle was not written, so there is nothing to attest.")
                }
                for index in results.indices {
                    var outputs = reportOutputs
                    outputs.reportPath = reportOutputs.reportPath.map { Self.perImagePath($0, number: index + 1, name: entries[index].text) }
                    outputs.attestationPath = written ? reportOutputs.attestationPath.map { Self.perImagePath($0, number: index + 1, name: entries[index].text) } : nil
                    try outputs.write(reports[index], journal: journal)
                    reportPaths[index] = outputs.reportPath
                }
            }

            let failures = results.enumerated().compactMap { index, result in Self.failure(result).map { (index, $0) } }
            for (index, _) in failures where !Terminal.quiet {
                Terminal.write("\n" + entries[index].text + ":\n" + SummaryTable.render(results[index]))
            }
            Terminal.write(Self.summary(results, entries: entries))

            if let worst = failures.map(\.1.code).min(by: { BottleCommand.rank($0) < BottleCommand.rank($1) }) {
                let messages = failures.map { "\(entries[$0.0].text) (\(imagesFrom):\(entries[$0.0].line)): \($0.1.message)" }.joined(separator: "\n  ")
                throw ToolFailure(worst, "\(failures.count) of \(results.count) images were not verified; nothing was written to \(output).\n  " + messages)
            }
            guard written, let bundle = results.first?.written else {
                throw ToolFailure(.notMet, "nothing was written")
            }
            if let document = ResultDocument.current {
                document.addWritten(path: bundle.path, format: bundle.format.rawValue, sha256: bundle.sha256.isEmpty ? nil : bundle.sha256)
                document.setDetails(BundleSummary(
                    output: bundle.path, format: bundle.format.rawValue, sha256: bundle.sha256,
                    images: zip(results, reportPaths).map { result, reportPath in
                        BundleSummary.Image(
                            reference: result.request.reference.description, platform: Self.platform(of: result.request),
                            digest: result.decision.agreed?.topDigest, manifestWritten: result.written?.manifestDigestWritten.string,
                            verdict: result.decision.verdict.rawValue, report: reportPath,
                            layersDownloaded: result.layersDownloaded, layersCached: result.layersCached, layersResumed: result.layersResumed,
                            bytesReceived: result.bytesReceived)
                    },
                    layersDownloaded: results.reduce(0) { $0 + $1.layersDownloaded },
                    layersCached: results.reduce(0) { $0 + $1.layersCached },
                    layersResumed: results.reduce(0) { $0 + $1.layersResumed },
                    bytesReceived: results.reduce(0) { $0 + $1.bytesReceived }))
            } else {
                let vantages = results.map(\.answeringCount).min() ?? 0
                Terminal.note("Wrote \(bundle.path) (\(bundle.format.rawValue)) with \(results.count) images, each verified by at least \(vantages) vantages.")
                for result in results {
                    if let digest = result.decision.agreed?.topDigest, let parsed = try? Digest(parsing: digest) {
                        Terminal.out(result.request.reference.pinned(to: parsed).description)
                    }
                }
            }
        }
    }

    /// A bundle's OCI layout is a new one: beyond what `WriteTargets` checks for every output, an
    /// existing layout (which a single pull would add to) is refused.
    static func checkNewLayout(_ output: String, format: OutputFormat) throws {
        guard format == .oci else { return }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: output, isDirectory: &isDirectory) else { return }
        let empty = isDirectory.boolValue && ((try? manager.contentsOfDirectory(atPath: output))?.isEmpty ?? false)
        guard empty else {
            throw ToolFailure(
                .badInput,
                "--output \(output) already exists; a bundle is written as a new OCI layout, so give a new path or an empty directory (remove the old bundle first to replace it)")
        }
    }

    /// nil when the image agreed; otherwise its failure with the contract's exit code, exactly as for one image.
    static func failure(_ result: PullResult) -> ToolFailure? {
        SubjectOutcome.failure(SummaryTable.rows(result), decision: result.decision, policyName: result.request.policy.name)
    }

    /// `reports/r.json`, 2, `alpine:3.20` → `reports/r.2-alpine_3.20.json`.
    static func perImagePath(_ path: String, number: Int, name: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
        return stem + ".\(number)-" + safe + (ext.isEmpty ? "" : "." + ext)
    }

    /// The platform an image was verified for: `all` under --all-platforms.
    static func platform(of request: PullRequest) -> String {
        request.allPlatforms ? "all" : request.platform.description
    }

    /// One line per image: name as listed, platform, verdict, agreed digest.
    static func summary(_ results: [PullResult], entries: [ImagesFile.Entry]) -> String {
        let header = ["image", "platform", "verdict", "digest"]
        let rows = zip(results, entries).map { result, entry in
            [entry.text, platform(of: result.request), result.decision.verdict.rawValue, result.decision.agreed?.topDigest ?? "-"]
        }
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return "\n" + ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// `--json` output of a bundle: the output, and per image what was agreed and what had to be fetched.
/// A layer shared by several images is counted once, for the first image that lists it.
struct BundleSummary: Encodable {
    struct Image: Encodable {
        var reference: String
        var platform: String
        var digest: String?
        var manifestWritten: String?
        var verdict: String
        var report: String?
        var layersDownloaded: Int
        var layersCached: Int
        var layersResumed: Int
        var bytesReceived: Int64
    }

    var output: String
    var format: String
    var sha256: String
    var images: [Image]
    var layersDownloaded: Int
    var layersCached: Int
    var layersResumed: Int
    var bytesReceived: Int64
}
