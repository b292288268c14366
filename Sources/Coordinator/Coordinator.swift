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
        let clients = try makeClients(request)
        events?(.resolving(vantages: request.vantages.map(\.name)))
        var runs = await resolveEverywhere(request, clients: clients, events: events)
        let store = ContentStore(root: request.storeRoot)

        var decision = decide(runs, request)
        var result = PullResult(request: request, vantages: runs, decision: decision, written: nil)
        let everyVantage = request.policy.blobVerification == .everyVantage
        guard decision.verdict == .agree, request.output != nil || everyVantage else { return result }
        let sources = preferredSources(runs, clients: clients)
        guard let primary = sources.first else { return result }

        // The output is assembled while the layers download: the writer waits at the gate for each
        // layer to be verified into the store, and the finished output is put in place only if the
        // verdict after every download is still agreement.
        let gate = LayerGate(store: store, streamsToWriter: request.output.map { $0.format != .oci } ?? false)
        try await BlobFetcher.dropDamaged(primary.resolution.manifest.layers, in: store)
        let staging = try stageOutput(request, resolution: primary.resolution, store: store, gate: gate)
        let statistics: BlobFetcher.Statistics
        do {
            if everyVantage {
                // Every vantage downloads and hashes every layer; the preferred one keeps them in the store.
                statistics = try await hashEverywhere(request, clients: clients, runs: &runs, store: store, gate: gate, events: events)
                decision = decide(runs, request)
            } else {
                statistics = try await BlobFetcher(
                    store: store, sources: sources.map { ($0.name, $0.client) }, reference: request.reference,
                    concurrency: request.blobConcurrency, events: gate.forwarding(events), gate: gate
                ).fetch(LayerOrder.forWriting(primary.resolution.manifest.layers))
            }
        } catch {
            // The output will be thrown away: the writer stops at its next layer instead of copying
            // the layers the store holds (or starting again after an abandoned live layer).
            gate.abort()
            await discard(staging)
            throw error
        }
        gate.close()
        result.vantages = runs
        result.decision = decision
        result.layersDownloaded = statistics.downloaded
        result.layersCached = statistics.cached
        result.layersResumed = statistics.resumed
        result.bytesReceived = statistics.bytesReceived

        guard let staging, let output = request.output else { return result }
        guard decision.verdict == .agree else {
            await discard(staging)
            return result
        }
        events?(.writing(path: output.path, format: output.format.rawValue))
        do {
            let staged = try await staging.value
            result.written = try await BlockingIO.run { try staged.commit(journal: output.journal) }
            result.layersStreamed = result.written?.layersTakenLive ?? 0
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        return result
    }

    /// Starts building the output (when there is one) from the preferred vantage's resolution,
    /// on a blocking thread; it waits at `gate` for layers that are not in the store yet.
    static func stageOutput(_ request: PullRequest, resolution: ImageResolution, store: ContentStore, gate: LayerGate) throws -> Task<StagedArtifact, any Error>? {
        guard let output = request.output else { return nil }
        try ingestConfig(resolution, store: store)
        let image = try imageToWrite(resolution, store: store)
        let availability = gate.availability
        return Task {
            try await BlockingIO.run {
                // However the writer ends, no download may wait for it any more.
                defer { gate.writerFinished() }
                return try ArtifactWriter.stage(
                    image, format: output.format, to: output.path, store: store, layerAvailability: availability, liveLayers: gate)
            }
        }
    }

    /// Waits for a staged output that will not be used and removes it.
    static func discard(_ staging: Task<StagedArtifact, any Error>?) async {
        guard let staging, let staged = try? await staging.value else { return }
        staged.discard()
    }

    static func decide(_ runs: [VantageRun], _ request: PullRequest) -> Decision<ObservedImage> {
        Agreement.decide(runs.map(observation), policy: request.policy, usedInsecureRegistry: request.usesInsecureRegistry)
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
        runs.compactMap { run -> Source? in
            guard let resolution = run.resolution, let client = clients.first(where: { $0.spec.name == run.spec.name }) else { return nil }
            return Source(name: run.spec.name, client: client.client, resolution: resolution)
        }.sorted { lhs, rhs in
            let left = clients.first { $0.spec.name == lhs.name }?.spec.kind == .local ? 0 : 1
            let right = clients.first { $0.spec.name == rhs.name }?.spec.kind == .local ? 0 : 1
            return left < right
        }
    }

    static func makeClients(_ request: PullRequest) throws -> [VantageClient] {
        guard !request.vantages.isEmpty else {
            throw CoordinatorError(.badInput, "no vantages configured")
        }
        return try request.vantages.map { spec in
            try makeClient(
                spec, caCertificatePath: request.caCertificatePath, insecureRegistries: request.insecureRegistries,
                credentials: request.credentials, timeout: request.vantageTimeout)
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
        await withTaskGroup(of: (Int, VantageRun).self) { group in
            for (index, vantage) in clients.enumerated() {
                group.addTask {
                    let start = Date()
                    do {
                        let resolution = try await withTimeout(request.vantageTimeout, vantage: vantage.spec.name) {
                            try await vantage.client.resolve(request.reference, platform: request.platform)
                        }
                        events?(.vantageAnswered(name: vantage.spec.name, digest: resolution.top.digest.string))
                        return (index, VantageRun(spec: vantage.spec, route: vantage.route, resolution: resolution, failure: nil, seconds: Date().timeIntervalSince(start)))
                    } catch {
                        let failure = Self.failure(from: error)
                        events?(.vantageFailed(name: vantage.spec.name, message: failure.message))
                        return (index, VantageRun(spec: vantage.spec, route: vantage.route, resolution: nil, failure: failure, seconds: Date().timeIntervalSince(start)))
                    }
                }
            }
            var runs: [(Int, VantageRun)] = []
            for await run in group { runs.append(run) }
            return runs.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// `blob_verification = "every-vantage"`: each answering vantage downloads every layer and
    /// records the SHA-256 of what it received. The preferred vantage stores verified layers as it
    /// goes; the others hash and discard. A vantage that fails here becomes a failed observation.
    static func hashEverywhere(
        _ request: PullRequest, clients: [VantageClient], runs: inout [VantageRun], store: ContentStore, gate: LayerGate, events: PullEventSink?
    ) async throws -> BlobFetcher.Statistics {
        let sources = preferredSources(runs, clients: clients)
        guard let primary = sources.first else { return BlobFetcher.Statistics() }
        let layers = primary.resolution.manifest.layers
        // The primary downloads into the store while the others download and hash: every route at
        // once, each with the same bounded concurrency.
        let fetcher = BlobFetcher(
            store: store, sources: [(primary.name, primary.client)], reference: request.reference,
            concurrency: request.blobConcurrency, events: gate.forwarding(events), gate: gate)
        let parts = await withTaskGroup(of: EveryVantagePart.self) { group in
            group.addTask { .primary(await fetchIntoStore(fetcher, layers: layers, primary: primary, store: store)) }
            for source in sources.dropFirst() {
                group.addTask {
                    do {
                        return .hashed(source.name, .success(try await hashLayers(source, request: request)))
                    } catch {
                        return .hashed(source.name, .failure(Self.failure(from: error)))
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
            let failure = Self.failure(from: error)
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
            try ingestConfig(primary.resolution, store: store)
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

    static func ingestConfig(_ resolution: ImageResolution, store: ContentStore) throws {
        let config = resolution.manifest.config
        // A cached config is used only if it still hashes to its digest (`read` removes it if not).
        if store.contains(config.digest, size: config.size), (try? store.read(config.digest)) != nil { return }
        guard let bytes = resolution.config?.bytes else {
            throw CoordinatorError(.notMet, "the config blob \(config.digest) was not received")
        }
        do {
            _ = try store.ingest(data: bytes, digest: config.digest)
        } catch {
            throw CoordinatorError(.notMet, "the agreed config blob does not match its digest \(config.digest): \(error)")
        }
    }

    static func failure(from error: any Error) -> VantageFailure {
        switch error {
        case let error as RegistryError:
            VantageFailure(message: error.message, isBadInput: error.isBadInput, isTampering: error.kind == .digestMismatch)
        case let error as OCIError: VantageFailure(message: error.message, isBadInput: true)
        case let error as TransportError: VantageFailure(message: error.description, isBadInput: false)
        case let error as CoordinatorError: VantageFailure(message: error.message, isBadInput: error.kind == .badInput)
        case let error as ArtifactsError: VantageFailure(message: error.message, isBadInput: false)
        default: VantageFailure(message: String(describing: error), isBadInput: false)
        }
    }

    static func observation(_ run: VantageRun) -> Observation<ObservedImage> {
        guard let resolution = run.resolution else {
            let message = run.failure?.message ?? "no answer"
            let outcome: Observation<ObservedImage>.Outcome = run.failure?.isTampering == true ? .tampered(message) : .failed(message)
            return Observation(vantage: run.spec.name, kind: run.spec.kind.rawValue, route: run.route, outcome: outcome)
        }
        let image = ObservedImage(
            topDigest: resolution.top.digest.string,
            topMediaType: resolution.top.mediaType,
            platformManifestDigest: resolution.platformManifest?.digest.string,
            configDigest: resolution.manifest.config.digest.string,
            layers: resolution.manifest.layers.map { ObservedImage.Layer(digest: $0.digest.string, size: $0.size) },
            configReceived: resolution.config.map { "sha256:" + $0.sha256 },
            layersReceived: run.layersReceived)
        return Observation(vantage: run.spec.name, kind: run.spec.kind.rawValue, route: run.route, outcome: .observed(image))
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
    /// Layers the archive writer took straight from their downloads (not read back from the store).
    public var layersStreamed = 0

    public var answeringCount: Int { vantages.filter { $0.resolution != nil }.count }
}
