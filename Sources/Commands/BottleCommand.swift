import ArgumentParser
import Coordinator
import Foundation
import Report

/// `3tofu bottle`: verify Homebrew bottles across vantages (formula API, registry index annotation,
/// layer digest) and write them under the names `brew install ./…` expects.
struct BottleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottle",
        abstract: "Verify Homebrew bottles across vantages and write them for `brew install ./…`.",
        discussion: HelpText.wrap("""
            Every vantage reads FORMULA.json from the formula API (versions.stable, revision, \
            bottle.stable.rebuild and the tag's sha256), resolves REGISTRY/FORMULA:VERSION with an anonymous \
            token, picks the index entry named VERSION.TAG (org.opencontainers.image.ref.name), and reads its \
            sh.brew.bottle.digest annotation and its manifest's layer digest. All three must be the same \
            within each vantage and across vantages. Then the bottle is downloaded once, checked against \
            that digest, and written to DIR/FORMULA--VERSION.TAG.bottle[.REBUILD].tar.gz.

            FORMULA@VERSION asks for another version than the API's current one: the API cannot vouch for \
            it, so only the registry's index and layer are compared (the report says so). A name with '@' \
            (openssl@3) is looked up whole first. Several formulae, or --brewfile, are verified as a set, \
            a few at a time; nothing is written unless every one agrees. With several formulae, --report \
            FILE.json writes one report per formula, FILE.<formula>.json.

            EXAMPLES
              3tofu bottle wget --tag arm64_sequoia --output ~/bottles
              brew install ~/bottles/wget--1.25.0.arm64_sequoia.bottle.tar.gz
              3tofu bottle openssl@3 jq --tag x86_64_linux --output bottles --report bottles/report.json
              3tofu bottle --brewfile Brewfile --tag arm64_sonoma --output bottles
            """ + LoginOptions.discussion)
    )

    @Argument(help: ArgumentHelp("Formulae, e.g. wget, openssl@3, wget@1.24.5.", valueName: "formula[@version]"))
    var formulae: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Bottle tag as Homebrew names it: arm64_sequoia, arm64_sonoma, sonoma, x86_64_linux, arm64_linux, …. `all` is not every tag: it is the tag of the one bottle Homebrew builds for a formula that is the same on every platform (no compiled code); use it when the formula lists only `all` (the error for a missing tag lists those available).",
        valueName: "tag"))
    var tag: String

    @Option(name: .shortAndLong, help: ArgumentHelp("Directory for the bottles (created if missing).", valueName: "dir"))
    var output: String

    @Option(name: .long, help: ArgumentHelp("Registry and repository prefix holding the bottles.", valueName: "host/prefix"))
    var registry = "ghcr.io/homebrew/core"

    @Option(name: .long, help: ArgumentHelp("Formula API base URL; FORMULA.json is read from it.", valueName: "url"))
    var formulaApi = "https://formulae.brew.sh/api/formula"

    @Option(name: .long, help: ArgumentHelp("Verify every `brew \"name\"` line of this Brewfile.", valueName: "file"))
    var brewfile: String?

    @Option(name: .long, help: ArgumentHelp("Formulae verified at once.", valueName: "n"))
    var concurrency = 4

    @OptionGroup var common: CommonOptions

    @OptionGroup(title: "Logins") var login: LoginOptions

    func run() async throws {
        var names = formulae
        if let brewfile {
            guard let text = try? String(contentsOfFile: brewfile, encoding: .utf8) else {
                throw ToolFailure(.badInput, "cannot read --brewfile \(brewfile); check the path")
            }
            let listed = Brewfile.formulae(in: text)
            guard !listed.isEmpty else { throw ToolFailure(.badInput, "\(brewfile) has no `brew \"name\"` lines") }
            names += listed.filter { !names.contains($0) }
        }
        guard !names.isEmpty else { throw ToolFailure(.badInput, "give a formula (e.g. `3tofu bottle wget --tag arm64_sequoia --output DIR`) or --brewfile FILE") }
        guard concurrency > 0 else { throw ToolFailure(.badInput, "--concurrency must be at least 1") }
        guard !tag.isEmpty, tag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ToolFailure(.badInput, "--tag '\(tag)' is not a bottle tag; Homebrew names them like arm64_sequoia, sonoma, x86_64_linux, all")
        }
        let (host, prefix) = try Self.splitRegistry(registry)
        guard let api = URL(string: formulaApi), let scheme = api.scheme?.lowercased(), scheme == "https" || scheme == "http", api.host != nil else {
            throw ToolFailure(.badInput, "--formula-api '\(formulaApi)' is not an http(s) URL")
        }
        var setup = try VantageSetup(common: common)
        let reportOutputs = try ReportOutputs(common: common)
        let history = try HistoryAccess(common: common)
        // Every path this run writes whose name is known now, checked before any vantage is asked
        // (the bottles' own names come from the formula API; each is checked when it is written).
        var targets = WriteTargets()
        targets.addReports(reportOutputs) { path in names.count == 1 ? [path] : names.map { Self.reportPath(path, formula: $0) } }
        try targets.check()
        try setup.checkVantages()
        try Self.prepareDirectory(output)
        setup.credentials = try Logins.resolve(login, names: [prefix.isEmpty ? host : "\(host)/\(prefix)"])
        // The bottles and their reports are kept only if the whole run succeeds: a set is written whole or not at all.
        try await RunJournal.run { journal in
            var request = BottleRequest(
                formulae: names, tag: tag, registry: host, repositoryPrefix: prefix,
                formulaAPI: formulaApi.hasSuffix("/") ? String(formulaApi.dropLast()) : formulaApi,
                vantages: setup.vantages, policy: setup.policy, insecureRegistries: setup.insecureRegistries, caCertificatePath: setup.caCert,
                credentials: setup.credentials, storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, outputDirectory: output,
                concurrency: concurrency)
            request.journal = journal
            request.histories = try history.loadBottles(tag: tag, policy: setup.policy)
            let results = try await BottleCoordinator.run(request)
            let allAgree = results.allSatisfy { $0.decision.verdict == .agree }
            for result in results where !setup.json || !allAgree {
                Terminal.write(SubjectOutcome.render(
                    result.vantages, decision: result.decision, headline: ["version", "annotation digest", "layer", "formula API sha256"],
                    title: results.count > 1 ? "\(result.argument) (\(tag)):" : nil))
            }
            for result in results {
                for note in result.notes { Terminal.note("note: \(result.argument): \(note)") }
            }
            // After the verdicts, so a report that fails (its path was checked up front) cannot hide them.
            for result in results where !reportOutputs.wanted {
                history.record(
                    ReportBuilder.make(result, request: request, toolVersion: ThreeTofu.version, createdAt: request.histories?.now ?? Date()),
                    history: request.history(for: result.vantages))
            }
            if reportOutputs.wanted {
                for result in results {
                    var outputs = reportOutputs
                    if results.count > 1 {
                        outputs.reportPath = reportOutputs.reportPath.map { Self.reportPath($0, formula: result.argument) }
                        outputs.attestationPath = reportOutputs.attestationPath.map { Self.reportPath($0, formula: result.argument) }
                    }
                    let report = history.record(
                        ReportBuilder.make(result, request: request, toolVersion: ThreeTofu.version, createdAt: request.histories?.now ?? Date()),
                        history: request.history(for: result.vantages))
                    try outputs.write(report, journal: journal)
                }
            }
            let failures = results.compactMap { result in
                SubjectOutcome.failure(result.vantages, decision: result.decision, policyName: setup.policy.name).map { (result.argument, $0) }
            }
            if let worst = failures.map(\.1.code).min(by: { Self.rank($0) < Self.rank($1) }) {
                if results.count == 1, let only = failures.first {
                    throw only.1
                }
                let messages = failures.map { "\($0.0): \($0.1.message)" }.joined(separator: "\n  ")
                throw ToolFailure(worst, "\(failures.count) of \(results.count) formulae were not verified; nothing was written.\n  " + messages)
            }
            let written = results.compactMap { result in result.written.map { (result, $0) } }
            guard written.count == results.count else { throw ToolFailure(.notMet, "nothing was written") }
            let paths = written.map { Self.shellPath($0.1.path) }
            if setup.json {
                try printJSON(BottleSummary(
                    bottles: written.map { result, file in
                        BottleSummary.Bottle(
                            formula: result.decision.agreed?.formula ?? result.argument, version: result.decision.agreed?.version ?? "",
                            rebuild: result.decision.agreed?.rebuild ?? 0, tag: tag, path: file.path, sha256: file.sha256,
                            apiChecked: result.decision.agreed?.apiSHA256 != nil)
                    },
                    install: "brew install " + paths.joined(separator: " ")))
            } else {
                for (result, file) in written {
                    Terminal.note("Wrote \(file.path), verified by \(result.answeringCount) vantages.")
                }
                Terminal.out("brew install " + paths.joined(separator: " "))
            }
        }
    }

    /// `ghcr.io/homebrew/core` → ("ghcr.io", "homebrew/core").
    static func splitRegistry(_ text: String) throws -> (host: String, prefix: String) {
        guard !text.contains("://"), !text.isEmpty else {
            throw ToolFailure(.badInput, "--registry '\(text)' must be HOST[:PORT]/PREFIX without a scheme, e.g. ghcr.io/homebrew/core")
        }
        let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
        guard let slash = trimmed.firstIndex(of: "/") else { return (trimmed.lowercased(), "") }
        return (trimmed[..<slash].lowercased(), String(trimmed[trimmed.index(after: slash)...]).lowercased())
    }

    static func prepareDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ToolFailure(.badInput, "--output \(path) is a file; give a directory for the bottles") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ToolFailure(.badInput, "cannot create --output directory \(path): \(error.localizedDescription)")
        }
    }

    /// `report.json` → `report.wget.json` for one formula of several.
    static func reportPath(_ path: String, formula: String) -> String {
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension
        let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
        let safe = formula.map { $0 == "/" ? "_" : $0 }
        return stem + "." + String(safe) + (ext.isEmpty ? "" : "." + ext)
    }

    /// `brew install` needs a path, not a bare name: `bottles/x.tar.gz` → `./bottles/x.tar.gz`.
    static func shellPath(_ path: String) -> String {
        path.hasPrefix("/") || path.hasPrefix("./") || path.hasPrefix("../") || path.hasPrefix("~") ? path : "./" + path
    }

    /// Which failure a set reports: dissent first, then bad input, then anything else.
    static func rank(_ code: ToolFailure.Code) -> Int {
        switch code {
        case .disagreement: 0
        case .badInput: 1
        case .notMet: 2
        }
    }
}

struct BottleSummary: Encodable {
    struct Bottle: Encodable {
        var formula: String
        var version: String
        var rebuild: Int
        var tag: String
        var path: String
        var sha256: String
        /// False when an older @VERSION was verified without the formula API.
        var apiChecked: Bool
    }

    var bottles: [Bottle]
    var install: String
}
