import Agreement
import Artifacts
import Configuration
import Foundation
import OCI
import Registry
import Transport

/// Runs every vantage on the same request, hands the observations to `Agreement`, and only on
/// agreement lets `Artifacts` write the output from bytes verified against the agreed digests.
public enum Coordinator {
    public static func run(_ request: PullRequest, events: PullEventSink? = nil) async throws -> PullResult {
        try await run(request, clients: try makeClients(request), events: events)
    }

    /// `run` with the vantages' clients of a larger run (a bundle's): they are not built again.
    static func run(_ request: PullRequest, clients: [VantageClient], events: PullEventSink? = nil) async throws -> PullResult {
        events?(.resolving(vantages: request.vantages.map(\.name)))
        var runs = await resolveEverywhere(request, clients: clients, events: events)
        let store = ContentStore(root: request.storeRoot)

        var decision = decide(runs, request)
        var result = PullResult(request: request, vantages: runs, decision: decision, written: nil)
        let everyVantage = request.policy.blobVerification == .everyVantage
        guard decision.verdict == .agree, request.output != nil || everyVantage else { return result }
        let sources = preferredSources(runs, clients: clients)
        guard let primary = sources.first else { return result }

        // The output is assembled while the layers download, and is put in place only if the
        // verdict after every download is still agreement.
        let stream = try await LayerStream.start(primary.resolution, output: request.output, store: store)
        let statistics: BlobFetcher.Statistics
        do {
            if everyVantage {
                // Every vantage downloads and hashes every layer; the preferred one keeps them in the store.
                statistics = try await hashEverywhere(request, clients: clients, runs: &runs, stream: stream, events: events)
                decision = decide(runs, request)
            } else {
                statistics = try await stream.fetch(
                    primary.resolution.manifest.layers, sources: sources.map { ($0.name, $0.client) }, reference: request.reference,
                    concurrency: request.blobConcurrency, events: events)
            }
        } catch {
            await stream.abandon()
            throw error
        }
        stream.fetchFinished()
        result.vantages = runs
        result.decision = decision
        result.layersDownloaded = statistics.downloaded
        result.layersCached = statistics.cached
        result.layersResumed = statistics.resumed
        result.bytesReceived = statistics.bytesReceived
        result.bytesByRoute = statistics.bytesByRoute

        guard let output = request.output else { return result }
        guard decision.verdict == .agree else {
            await stream.discard()
            return result
        }
        events?(.writing(path: output.path, format: output.format.rawValue))
        do {
            result.written = try await stream.commit(journal: output.journal)
            result.layersStreamed = result.written?.layersTakenLive ?? 0
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        return result
    }

    static func decide(_ runs: [VantageRun], _ request: PullRequest) -> Decision<ObservedImage> {
        Agreement.decide(runs.map(\.observation), policy: request.policy, usedInsecureRegistry: request.usesInsecureRegistry)
    }

    struct VantageClient: Sendable {
        var spec: VantageSpec
        var route: String
        var client: RegistryClient
    }

    struct Source: Sendable {
        var name: String
        var client: RegistryClient
        var resolution: ImageResolution
    }

    /// Answering vantages, this machine's first (it is usually the fastest route).
    static func preferredSources(_ runs: [VantageRun], clients: [VantageClient]) -> [Source] {
        let resolutions = Dictionary(runs.compactMap { run in run.resolution.map { (run.spec.name, $0) } }, uniquingKeysWith: { first, _ in first })
        return VantageFanOut.preferredFirst(answering: Set(resolutions.keys), clients: clients).compactMap { vantage in
            resolutions[vantage.spec.name].map { Source(name: vantage.spec.name, client: vantage.client, resolution: $0) }
        }
    }

    static func makeClients(_ request: PullRequest) throws -> [VantageClient] {
        try makeClients(
            request.vantages, caCertificatePath: request.caCertificatePath, insecureRegistries: request.insecureRegistries,
            credentials: request.credentials, timeout: request.vantageTimeout)
    }

    /// Every vantage's client, built once for a run and used by each of its phases (and, in a
    /// bundle, by every image): an SSH vantage holds one session for the whole run.
    static func makeClients(
        _ vantages: [VantageSpec], caCertificatePath: String?, insecureRegistries: Set<String>, credentials: RegistryCredentials, timeout: Double
    ) throws -> [VantageClient] {
        guard !vantages.isEmpty else {
            throw CoordinatorError(.badInput, "no vantages configured")
        }
        return try vantages.map { spec in
            try makeClient(spec, caCertificatePath: caCertificatePath, insecureRegistries: insecureRegistries, credentials: credentials, timeout: timeout)
        }
    }

    /// One vantage's transport (direct, through its proxy, or curl on an SSH host; its CAs) and registry client.
    static func makeClient(
        _ spec: VantageSpec, caCertificatePath: String?, insecureRegistries: Set<String>, credentials: RegistryCredentials, timeout: Double
    ) throws -> VantageClient {
        var configuration: TransportConfiguration
        switch spec.kind {
        case .local:
            configuration = TransportConfiguration(proxy: nil)
        case .proxy:
            configuration = TransportConfiguration(proxy: spec.proxy)
        case .ssh:
            // curl or `3tofu agent` on the remote host does the fetching; the session connects on first use.
            let transport = try SSHVantage.httpTransport(spec, caCertificatePath: caCertificatePath, timeout: timeout)
            let client = RegistryClient(transport: transport, credentials: credentials, insecureRegistries: insecureRegistries)
            return VantageClient(spec: spec, route: transport.route, client: client)
        }
        configuration.extraCACertificatesPath = try CABundles.combined([caCertificatePath, spec.caCert].compactMap { $0 })
        configuration.connectTimeout = min(configuration.connectTimeout, timeout)
        try TransportTuning.apply(ProcessInfo.processInfo.environment, to: &configuration)
        let transport: CurlTransport
        do {
            transport = try CurlTransport(configuration: configuration)
        } catch {
            throw CoordinatorError(.badInput, "vantage '\(spec.name)': \(error)")
        }
        let client = RegistryClient(transport: transport, credentials: credentials, insecureRegistries: insecureRegistries)
        return VantageClient(spec: spec, route: transport.route, client: client)
    }

    /// Every vantage resolves on its own, concurrently; one failing or slow vantage neither
    /// cancels nor delays the others beyond its own timeout.
    static func resolveEverywhere(_ request: PullRequest, clients: [VantageClient], events: PullEventSink?) async -> [VantageRun] {
        let attempts = await VantageFanOut.attempt(clients, timeout: request.vantageTimeout, finished: { attempt in
            switch attempt.result {
            case .success(let resolution): events?(.vantageAnswered(name: attempt.vantage.spec.name, digest: resolution.top.digest.string))
            case .failure(let failure): events?(.vantageFailed(name: attempt.vantage.spec.name, message: failure.message))
            }
        }) { vantage in
            try await vantage.client.resolve(request.reference, platform: request.platform)
        }
        return attempts.map { attempt in
            var failure: VantageFailure?
            if case .failure(let failed) = attempt.result { failure = failed }
            return VantageRun(
                spec: attempt.vantage.spec, route: attempt.vantage.route, resolution: try? attempt.result.get(), failure: failure, seconds: attempt.seconds)
        }
    }

    /// `blob_verification = "every-vantage"`: each answering vantage downloads every layer and
    /// records the SHA-256 of what it received. The preferred vantage stores verified layers as it
    /// goes; the others hash and discard. A vantage that fails here becomes a failed observation.
    static func hashEverywhere(
        _ request: PullRequest, clients: [VantageClient], runs: inout [VantageRun], stream: LayerStream, events: PullEventSink?
    ) async throws -> BlobFetcher.Statistics {
        let store = stream.store
        let sources = preferredSources(runs, clients: clients)
        guard let primary = sources.first else { return BlobFetcher.Statistics() }
        let layers = primary.resolution.manifest.layers
        // The primary downloads into the store while the others download and hash: every route at
        // once, each with the same bounded concurrency.
        let fetcher = stream.fetcher(
            sources: [(primary.name, primary.client)], reference: request.reference, concurrency: request.blobConcurrency, events: events)
        let parts = await withTaskGroup(of: EveryVantagePart.self) { group in
            group.addTask { .primary(await fetchIntoStore(fetcher, layers: layers, primary: primary, store: store)) }
            for source in sources.dropFirst() {
                group.addTask {
                    do {
                        return .hashed(source.name, .success(try await hashLayers(source, request: request)))
                    } catch {
                        return .hashed(source.name, .failure(VantageFailure(error)))
                    }
                }
            }
            var parts: [EveryVantagePart] = []
            for await part in group { parts.append(part) }
            return parts
        }
        var primaryFetch: Result<BlobFetcher.Statistics, any Error> = .failure(CancellationError())
        var hashed: [(String, Result<[String], VantageFailure>)] = []
        for part in parts {
            switch part {
            case .primary(let result): primaryFetch = result
            case .hashed(let name, let result): hashed.append((name, result))
            }
        }
        // What the primary received is what the store verified. If it failed, what the others
        // received (or how they failed: tampering is dissent) still counts.
        var statistics = BlobFetcher.Statistics()
        switch primaryFetch {
        case .success(let fetched):
            statistics = fetched
        case .failure(let error):
            let failure = VantageFailure(error)
            runs = runs.map { run in
                guard run.spec.name == primary.name else { return run }
                var failed = run
                failed.resolution = nil
                failed.failure = failure
                return failed
            }
        }
        for index in runs.indices {
            if runs[index].spec.name == primary.name {
                if runs[index].failure == nil {
                    runs[index].layersReceived = try layers.map { layer in try store.sha256(of: layer.digest) }
                }
                continue
            }
            switch hashed.first(where: { $0.0 == runs[index].spec.name })?.1 {
            case .success(let received): runs[index].layersReceived = received
            case .failure(let failure):
                runs[index].resolution = nil
                runs[index].failure = failure
            case nil: break
            }
        }
        return statistics
    }

    /// What one child of every-vantage verification brings back.
    enum EveryVantagePart: Sendable {
        /// The primary vantage's download into the store.
        case primary(Result<BlobFetcher.Statistics, any Error>)
        /// Another vantage's SHA-256 of every layer, or why it failed.
        case hashed(String, Result<[String], VantageFailure>)
    }

    /// The primary's part of every-vantage verification: its layers into the store, then the config.
    static func fetchIntoStore(_ fetcher: BlobFetcher, layers: [Descriptor], primary: Source, store: ContentStore) async -> Result<BlobFetcher.Statistics, any Error> {
        do {
            let statistics = try await fetcher.fetch(LayerOrder.forWriting(layers))
            try await ingestConfig(primary.resolution, store: store)
            return .success(statistics)
        } catch {
            return .failure(error)
        }
    }

    /// One vantage downloads and hashes every layer of its resolution (nothing kept), at most
    /// `request.blobConcurrency` at a time; "sha256:<hex>" of each, in manifest order.
    static func hashLayers(_ source: Source, request: PullRequest) async throws -> [String] {
        let layers = source.resolution.manifest.layers
        let client = source.client
        let registry = request.reference.registry
        let repository = request.reference.repository
        var received = [String](repeating: "", count: layers.count)
        try await withThrowingTaskGroup(of: (index: Int, sha256: String).self) { group in
            var next = 0
            for _ in 0..<max(1, request.blobConcurrency) where next < layers.count {
                let index = next, layer = layers[next]
                group.addTask { (index, "sha256:" + (try await client.hashBlob(registry: registry, repository: repository, descriptor: layer)).sha256) }
                next += 1
            }
            while let finished = try await group.next() {
                received[finished.index] = finished.sha256
                if next < layers.count {
                    let index = next, layer = layers[next]
                    group.addTask { (index, "sha256:" + (try await client.hashBlob(registry: registry, repository: repository, descriptor: layer)).sha256) }
                    next += 1
                }
            }
        }
        return received
    }

    /// Puts the agreed config blob in the store (hashing a cached one, or writing and fsyncing the
    /// received bytes), off the cooperative pool.
    static func ingestConfig(_ resolution: ImageResolution, store: ContentStore) async throws {
        let config = resolution.manifest.config
        // A cached config is used only if it still hashes to its digest (`read` removes it if not).
        let cached = try await BlockingIO.run { store.contains(config.digest, size: config.size) && (try? store.read(config.digest)) != nil }
        if cached { return }
        guard let bytes = resolution.config?.bytes else {
            throw CoordinatorError(.notMet, "the config blob \(config.digest) was not received")
        }
        do {
            _ = try await BlockingIO.run { try store.ingest(data: bytes, digest: config.digest) }
        } catch {
            throw CoordinatorError(.notMet, "the agreed config blob does not match its digest \(config.digest): \(error)")
        }
    }

    static func imageToWrite(_ resolution: ImageResolution, store: ContentStore) throws -> ImageToWrite {
        let selected = resolution.selected
        let configBytes: Data
        do {
            configBytes = try store.read(resolution.manifest.config.digest)
        } catch {
            throw CoordinatorError(.notMet, "cannot read the verified config blob from the cache: \(error)")
        }
        return ImageToWrite(
            name: resolution.reference.name + (resolution.reference.tag.map { ":" + $0 } ?? ""),
            manifestBytes: selected.bytes, manifestDigest: selected.digest, manifestMediaType: selected.mediaType,
            config: resolution.manifest.config, configBytes: configBytes, layers: resolution.manifest.layers,
            platform: resolution.platform)
    }
}

/// The outcome of a run: every vantage's part, the decision, and what was written.
public struct PullResult: Sendable {
    public var request: PullRequest
    public var vantages: [VantageRun]
    public var decision: Decision<ObservedImage>
    public var written: WriteResult?
    public var layersDownloaded = 0
    public var layersCached = 0
    /// Downloads that continued a partial file left by an earlier, interrupted run.
    public var layersResumed = 0
    public var bytesReceived: Int64 = 0
    /// Bytes of the downloaded blobs each vantage's route carried (several under `blob_verification = "source"`).
    public var bytesByRoute: [String: Int64] = [:]
    /// Layers the archive writer took straight from their downloads (not read back from the store).
    public var layersStreamed = 0

    public var answeringCount: Int { vantages.filter { $0.resolution != nil }.count }
}
