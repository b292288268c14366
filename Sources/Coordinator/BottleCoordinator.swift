import Agreement
import Artifacts
import Foundation
import OCI
import Registry
import Report
import Transport

/// `3tofu bottle`: every vantage reads the formula API, resolves the version's OCI index on the
/// registry (anonymous token), picks the bottle tag's entry, and reads its `sh.brew.bottle.digest`
/// annotation and its manifest's single layer. API sha256, annotation and layer must name the same
/// bytes within each vantage and across vantages. Only when every formula agrees is each bottle
/// downloaded once, verified into the content store, and written under Homebrew's file name.
public enum BottleCoordinator {
    public static let formulaDocumentLimit = 8 << 20
    public static let referenceNameAnnotation = "org.opencontainers.image.ref.name"
    public static let bottleDigestAnnotation = "sh.brew.bottle.digest"
    static let layerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip"

    public static func run(_ request: BottleRequest) async throws -> [BottleResult] {
        guard !request.formulae.isEmpty else { throw CoordinatorError(.badInput, "no formula given") }
        let pipeline = try Pipeline(
            request.vantages, caCertificatePath: request.caCertificatePath, insecureRegistries: request.insecureRegistries,
            credentials: request.credentials, timeout: request.vantageTimeout, policy: request.policy)
        var verifications = try await pipeline.verifyEach(
            request.formulae.map { BottleObserver(argument: $0, request: request) }, width: request.concurrency)
        var written: [(path: String, sha256: String)?] = Array(repeating: nil, count: verifications.count)
        // A set is written only when every formula in it agrees.
        if let directory = request.outputDirectory, verifications.allSatisfy({ $0.decision.verdict == .agree }) {
            let delivery = BottleDelivery(request: request, store: ContentStore(root: request.storeRoot), directory: directory)
            for index in verifications.indices {
                written[index] = try await delivery.deliver(&verifications[index])
            }
        }
        return zip(request.formulae, zip(verifications, written)).map { argument, outcome in
            BottleResult(argument: argument, vantages: outcome.0.runs, decision: outcome.0.decision, notes: notes(outcome.0.runs), written: outcome.1)
        }
    }

    /// What the report must say besides the verdict.
    static func notes(_ runs: [BottleRun]) -> [String] {
        guard let seen = runs.compactMap(\.observed).first, seen.apiSHA256 == nil else { return [] }
        return [
            "The formula API lists \(seen.formula) \(seen.apiVersion ?? "another version"), not \(seen.version), so the formula API check was skipped; "
                + "the registry's index annotation and layer were still compared across vantages."
        ]
    }

    /// A bottle's observer: the vantage reads the formula API, the version's index and the tag's manifest.
    struct BottleObserver: SubjectObserver {
        let argument: String
        let request: BottleRequest
        var usesPlainHTTP: Bool { request.usesPlainHTTP }

        func history(for runs: [BottleRun]) -> TimeRules.History? { request.history(for: runs) }

        func observe(through vantage: VantageClient) async throws -> VantageAnswer<ObservedBottle, Never> {
            try await BottleCoordinator.observe(argument, request: request, client: vantage.client)
        }
    }

    /// One vantage's view of one formula's bottle.
    static func observe(_ argument: String, request: BottleRequest, client: RegistryClient) async throws -> VantageAnswer<ObservedBottle, Never> {
        let (formula, wantedVersion, info) = try await lookUp(argument, request: request, client: client)
        let tag = request.tag
        var version = info.packageVersion
        var rebuild = info.rebuild
        var apiSHA256: String?
        if let wantedVersion, wantedVersion != info.versions.stable, wantedVersion != info.packageVersion {
            // An older (or other) version than the API describes: its sha256 is not in the API.
            version = wantedVersion
            rebuild = 0
        } else {
            guard let file = info.bottle?.stable?.files[tag] else {
                let tags = info.tags
                throw CoordinatorError(
                    .badInput,
                    "the formula API lists no '\(tag)' bottle for \(formula) \(info.packageVersion); "
                        + (tags.isEmpty ? "it lists no bottles at all" : "bottle tags available: \(abbreviatedList(tags))"))
            }
            let hex = file.sha256.lowercased()
            guard ChecksumFile.isSHA256Hex(hex) else {
                throw CoordinatorError(.badInput, "the formula API's sha256 for \(formula) \(tag) is not 64 hex digits ('\(file.sha256.prefix(80))')")
            }
            apiSHA256 = "sha256:" + hex
        }
        guard HomebrewNaming.isSafeName(version) else {
            throw CoordinatorError(.badInput, "version '\(version)' of \(formula) cannot be part of a file name")
        }

        let repository = request.repository(for: formula)
        let imageTag = HomebrewNaming.imageTag(packageVersion: version, rebuild: rebuild)
        let where_ = "\(request.registry)/\(repository):\(imageTag)"
        let fetchedIndex = try await client.fetchManifest(registry: request.registry, repository: repository, reference: imageTag, expected: nil)
        guard case .index(let index) = fetchedIndex.document else {
            throw CoordinatorError(.badInput, "\(where_) is a single image manifest, not a Homebrew bottle index; check --registry")
        }
        let referenceName = HomebrewNaming.referenceName(packageVersion: version, tag: tag, rebuild: rebuild)
        guard let entry = index.manifests.first(where: { $0.annotations?[referenceNameAnnotation] == referenceName }) else {
            let prefix = version + "."
            let available = index.manifests.compactMap { $0.annotations?[referenceNameAnnotation] }
                .map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
            throw CoordinatorError(
                .badInput,
                "the index at \(where_) has no bottle for tag '\(tag)' (no entry named \(referenceName)); "
                    + (available.isEmpty ? "it names no bottles" : "bottle tags available: \(abbreviatedList(available.sorted()))"))
        }
        guard let annotation = entry.annotations?[bottleDigestAnnotation]?.lowercased(), ChecksumFile.isSHA256Hex(annotation) else {
            throw RegistryError(.badResponse, "the index entry \(referenceName) at \(where_) has no usable \(bottleDigestAnnotation) annotation")
        }
        let fetchedManifest = try await client.fetchManifest(
            registry: request.registry, repository: repository, reference: entry.digest.string, expected: entry.digest, size: entry.size)
        guard Int64(fetchedManifest.bytes.count) == entry.size else {
            throw RegistryError(.digestMismatch, "\(where_): the index says the manifest for \(tag) is \(entry.size) bytes, the registry sent \(fetchedManifest.bytes.count)")
        }
        guard case .manifest(let manifest) = fetchedManifest.document, manifest.layers.count == 1, let layer = manifest.layers.first else {
            throw RegistryError(.badResponse, "the manifest for \(referenceName) at \(where_) is not a bottle (it must have exactly one layer)")
        }
        let bottle = ObservedBottle(
            formula: formula, version: version, rebuild: rebuild, tag: tag, apiVersion: info.packageVersion, apiSHA256: apiSHA256,
            indexDigest: fetchedIndex.digest.string, manifestDigest: entry.digest.string, annotationDigest: "sha256:" + annotation,
            platform: entry.platform.map { platform in platform.description + (platform.osVersion.map { " (\($0))" } ?? "") },
            layerDigest: layer.digest.string, layerSize: layer.size)
        let problems = [bottle.inconsistency, platformProblem(entry.platform, tag: tag)].compactMap { $0 }
        return VantageAnswer(
            subject: bottle, evidence: ReportBuilder.evidence(fetchedIndex),
            inconsistency: problems.isEmpty ? nil : "\(formula) \(referenceName): " + problems.joined(separator: "; "))
    }

    /// Reads the formula's API document. `name@x` is first looked up whole (a versioned formula such
    /// as `openssl@3`), then as formula `name` at version `x`.
    static func lookUp(_ argument: String, request: BottleRequest, client: RegistryClient) async throws -> (formula: String, version: String?, info: FormulaInfo) {
        var candidates: [(name: String, version: String?)] = [(argument, nil)]
        if let at = argument.lastIndex(of: "@") {
            candidates.append((String(argument[..<at]), String(argument[argument.index(after: at)...])))
        }
        var tried: [String] = []
        for candidate in candidates where HomebrewNaming.isSafeName(candidate.name) && candidate.version.map(HomebrewNaming.isSafeName) != false {
            let url = request.formulaAPI + "/" + candidate.name + ".json"
            tried.append(RegistryClient.redact(url))
            let (response, _) = try await client.fetchURL(url, into: .memory(limit: formulaDocumentLimit))
            if response.status == 404 { continue }
            guard response.status == 200 else { throw RegistryClient.downloadStatusError(response, url: url) }
            let info = try FormulaInfo.decode(response.body, source: RegistryClient.redact(url))
            guard HomebrewNaming.isSafeName(info.name) else {
                throw CoordinatorError(.badInput, "\(RegistryClient.redact(url)) names the formula '\(info.name.prefix(80))', which cannot be part of a file name")
            }
            return (info.name, candidate.version, info)
        }
        guard !tried.isEmpty else {
            throw CoordinatorError(.badInput, "'\(argument)' is not a formula name (letters, digits, '@', '+', '.', '_', '-'); homebrew/core formulae only")
        }
        throw CoordinatorError(.badInput, "the formula API knows no formula '\(argument)' (HTTP 404 from \(tried.joined(separator: " and "))); check the name and --formula-api")
    }

    /// The index entry's platform against what the bottle tag stands for; nil when they fit or cannot be checked.
    static func platformProblem(_ platform: Platform?, tag: String) -> String? {
        guard let platform, let expected = HomebrewNaming.platform(forTag: tag) else { return nil }
        let have = platform.normalized
        let want = Platform(os: expected.os, architecture: expected.architecture).normalized
        var fits = have.os == want.os && have.architecture == want.architecture
        if let wantedVersion = expected.osVersion, let version = platform.osVersion {
            fits = fits && (version == wantedVersion || version.hasPrefix(wantedVersion + "."))
        }
        guard !fits else { return nil }
        let seen = platform.description + (platform.osVersion.map { " (\($0))" } ?? "")
        let wanted = "\(expected.os)/\(expected.architecture)" + (expected.osVersion.map { " (\($0))" } ?? "")
        return "the index entry for \(tag) is for \(seen), not \(wanted)"
    }

    /// A bottle's delivery, once every formula of the set agreed: the agreed bottle downloaded
    /// once (from an agreeing vantage, another on failure), verified into the content store, and
    /// written under Homebrew's name in `directory`.
    struct BottleDelivery: SubjectDelivery {
        let request: BottleRequest
        let store: ContentStore
        let directory: String

        func deliver(_ verification: inout Verification<ObservedBottle, Never>) async throws -> (path: String, sha256: String)? {
            guard let agreed = verification.decision.agreed else { return nil }
            let repository = request.repository(for: agreed.formula)
            let imageTag = HomebrewNaming.imageTag(packageVersion: agreed.version, rebuild: agreed.rebuild)
            let reference: ImageReference
            let digest: Digest
            do {
                reference = try ImageReference(parsing: "\(request.registry)/\(repository):\(imageTag)")
                digest = try Digest(parsing: agreed.layerDigest)
            } catch let error as OCIError {
                throw CoordinatorError(.badInput, "\(agreed.formula): \(error.message)")
            }
            let descriptor = Descriptor(mediaType: layerMediaType, digest: digest, size: agreed.layerSize)
            let sources = verification.sources.map { (name: $0.name, client: $0.client) }
            try await BlobFetcher.dropDamaged([descriptor], in: store)
            _ = try await BlobFetcher(store: store, sources: sources, reference: reference, concurrency: 1, events: nil).fetch([descriptor])
            let path = directory + "/" + HomebrewNaming.bottleFileName(formula: agreed.formula, packageVersion: agreed.version, tag: agreed.tag, rebuild: agreed.rebuild)
            let size = agreed.layerSize, store = store, journal = request.journal
            do {
                let sha256 = try await BlockingIO.run { try FileOutput.write(blob: digest, size: size, from: store, to: path, journal: journal) }
                return (path, sha256)
            } catch {
                throw CoordinatorError(.notMet, "could not write \(path): \(error)")
            }
        }
    }
}
