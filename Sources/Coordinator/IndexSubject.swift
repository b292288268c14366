import Agreement
import Artifacts
import Foundation
import OCI
import Registry

/// What one vantage resolved under `--all-platforms`: the index as received and, for each of its
/// entries (attestation manifests included), the manifest, and under "every-vantage" the config
/// as received (under "source" the delivery fetches each config once, `ImageConfig`).
public struct IndexResolution: Sendable {
    public struct Entry: Sendable {
        /// The entry as the index gives it (digest, size, platform, annotations).
        public var descriptor: Descriptor
        public var manifest: FetchedManifest
        public var image: ImageManifest
        public var config: RegistryClient.SmallBlob?
    }

    public var reference: ImageReference
    public var top: FetchedManifest
    public var entries: [Entry]

    /// Every layer of every entry, each once, in index order.
    var layers: [Descriptor] {
        var seen: Set<Digest> = []
        return entries.flatMap(\.image.layers).filter { seen.insert($0.digest).inserted }
    }
}

/// The observer of `pull --all-platforms`: the vantage resolves the index and every entry's
/// manifest (checked against the entry's digest and size) and, under "every-vantage", config
/// (hashed as received).
struct IndexObserver: SubjectObserver {
    let reference: ImageReference
    let usesPlainHTTP: Bool
    let history: TimeRules.History?
    let fetchesConfigs: Bool
    /// Entries fetched at once from one vantage.
    static let width = 4

    init(_ request: PullRequest) {
        reference = request.reference
        usesPlainHTTP = request.usesInsecureRegistry
        history = request.history
        fetchesConfigs = request.policy.blobVerification == .everyVantage
    }

    func history(for runs: [SubjectRun<ObservedImage, IndexResolution>]) -> TimeRules.History? { history }

    func observe(through vantage: VantageClient) async throws -> VantageAnswer<ObservedImage, IndexResolution> {
        let client = vantage.client, reference = reference, fetchesConfigs = fetchesConfigs
        let top = try await client.fetchManifest(
            registry: reference.registry, repository: reference.repository, reference: reference.manifestReference, expected: reference.digest)
        guard case .index(let index) = top.document else {
            throw CoordinatorError(
                .badInput, "\(reference) is a single-platform image (\(top.mediaType)), not an index: there is only one platform to pull; drop --all-platforms")
        }
        let entries = try await BoundedWindow.map(index.manifests, width: Self.width) { _, descriptor in
            try await Self.entry(descriptor, of: reference, client: client, fetchingConfig: fetchesConfigs)
        }
        let resolution = IndexResolution(reference: reference, top: top, entries: entries)
        return VantageAnswer(subject: Self.observed(resolution), payload: resolution, evidence: ReportBuilder.evidence(top))
    }

    static func entry(_ descriptor: Descriptor, of reference: ImageReference, client: RegistryClient, fetchingConfig: Bool) async throws -> IndexResolution.Entry {
        let name = descriptor.platform?.description ?? "(none)"
        let manifest = try await client.fetchManifest(
            registry: reference.registry, repository: reference.repository, reference: descriptor.digest.string, expected: descriptor.digest,
            size: descriptor.size)
        guard Int64(manifest.bytes.count) == descriptor.size else {
            throw RegistryError(
                .digestMismatch, "\(reference): the index says the manifest for \(name) is \(descriptor.size) bytes, the registry sent \(manifest.bytes.count)")
        }
        guard case .manifest(let image) = manifest.document else {
            throw RegistryError(.badResponse, "\(reference): the index entry for \(name) is itself an index; nested indexes are not supported")
        }
        let config = fetchingConfig
            ? try await client.fetchSmallBlob(registry: reference.registry, repository: reference.repository, descriptor: image.config) : nil
        return IndexResolution.Entry(descriptor: descriptor, manifest: manifest, image: image, config: config)
    }

    /// What `Agreement` compares: the index, and every entry's platform, manifest, config and layers.
    static func observed(_ resolution: IndexResolution) -> ObservedImage {
        ObservedImage(
            topDigest: resolution.top.digest.string, topMediaType: resolution.top.mediaType, platformManifestDigest: nil, configDigest: "",
            layers: [],
            platforms: resolution.entries.map { entry in
                ObservedImage.IndexEntry(
                    platform: entry.descriptor.platform?.description ?? "(none)", attestation: ImageIndex.isAttestation(entry.descriptor),
                    manifestDigest: entry.manifest.digest.string, mediaType: entry.manifest.mediaType,
                    configDigest: entry.image.config.digest.string,
                    layers: entry.image.layers.map { ObservedImage.Layer(digest: $0.digest.string, size: $0.size) },
                    configReceived: entry.config.map { "sha256:" + $0.sha256 })
            })
    }
}

/// The delivery of `pull --all-platforms`: every entry's layers downloaded once (`BlobFetcher`,
/// from an agreeing vantage, another on failure) or, under "every-vantage", hashed by every
/// answering vantage and decided again; then the index, manifests and configs as received put in
/// the store (each checked against its digest) and the whole index written as an OCI layout or
/// oci-archive (`IndexLayoutWriter`).
struct IndexDelivery: SubjectDelivery {
    /// The same settings as one platform's delivery: reference, output, store, policy, concurrency.
    let settings: ImageDelivery
    var reference: ImageReference { settings.reference }
    var output: PullRequest.Output? { settings.output }
    var store: ContentStore { settings.store }
    var everyVantage: Bool { settings.everyVantage }
    var blobConcurrency: Int { settings.blobConcurrency }
    var events: PullEventSink? { settings.events }

    /// nil when there is nothing to deliver: no output, and the policy needs no layer hashed.
    init?(_ request: PullRequest, events: PullEventSink?) {
        guard let settings = ImageDelivery(request, events: events) else { return nil }
        self.settings = settings
    }

    func deliver(_ verification: inout Verification<ObservedImage, IndexResolution>) async throws -> ImageDelivery.Delivered {
        guard let primary = verification.sources.first, let resolution = primary.payload else { return ImageDelivery.Delivered() }
        var delivered = ImageDelivery.Delivered()
        if everyVantage {
            try await BlobFetcher.dropDamaged(resolution.layers, in: store)
            let fetcher = BlobFetcher(store: store, sources: [(primary.name, primary.client)], reference: reference, concurrency: blobConcurrency, events: events)
            delivered.statistics = try await EveryVantageHashing.run(
                &verification, layers: resolution.layers, reference: reference, width: blobConcurrency, fetcher: fetcher
            ) { observed, payload, received in
                // Each entry's layers, as this vantage received them.
                for (number, entry) in (payload?.entries ?? []).enumerated() {
                    observed.platforms?[number].layersReceived = entry.image.layers.map { received[$0.digest] ?? "(not received)" }
                }
            }
            verification.decideAgain()
        }
        guard let output, verification.decision.verdict == .agree else { return delivered }
        let stored = try await Self.store(
            resolution, sources: verification.sources.map { ($0.name, $0.client) }, store: store, concurrency: blobConcurrency, events: events)
        if !everyVantage { delivered.statistics = stored.statistics }
        events?(.writing(path: output.path, format: output.format.rawValue))
        let store = store
        do {
            delivered.written = try await BlockingIO.run {
                try IndexLayoutWriter(store: store, format: output.format).write(stored.image, to: output.path, journal: output.journal)
            }
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        return delivered
    }

    /// Everything an agreed index reaches into the store: every entry's layers downloaded once
    /// (those already verified there kept), then the index, manifests and configs as received
    /// (`ingest` refuses bytes that do not hash to their digest). What to write, and what the fetch did.
    static func store(
        _ resolution: IndexResolution, sources: [(name: String, client: RegistryClient)], store: ContentStore, concurrency: Int, events: PullEventSink?
    ) async throws -> (image: IndexToWrite, statistics: BlobFetcher.Statistics) {
        let reference = resolution.reference
        try await BlobFetcher.dropDamaged(resolution.layers, in: store)
        let fetcher = BlobFetcher(store: store, sources: sources, reference: reference, concurrency: concurrency, events: events)
        let statistics = try await fetcher.fetch(LayerOrder.forWriting(resolution.layers))
        var documents: [(Data, Digest)] = [(resolution.top.bytes, resolution.top.digest)]
        var seen: Set<Digest> = []
        for entry in resolution.entries {
            documents.append((entry.manifest.bytes, entry.manifest.digest))
            if let config = entry.config {
                documents.append((config.bytes, entry.image.config.digest))
                continue
            }
            // Under "source" no vantage fetched the configs: each comes once, here, unless the store
            // holds it still hashing to its digest.
            let config = entry.image.config
            guard seen.insert(config.digest).inserted else { continue }
            let cached = try await BlockingIO.run { store.contains(config.digest, size: config.size) && (try? store.read(config.digest)) != nil }
            if !cached { documents.append((try await ImageConfig.fetch(config, of: reference, from: sources).bytes, config.digest)) }
        }
        let received = documents
        do {
            try await BlockingIO.run {
                // A cached copy counts only if it still hashes to its digest (`read` removes it if not).
                for (bytes, digest) in received where !store.contains(digest, size: Int64(bytes.count)) || (try? store.read(digest)) == nil {
                    _ = try store.ingest(data: bytes, digest: digest)
                }
            }
        } catch {
            throw CoordinatorError(.notMet, "an agreed manifest or config of \(reference) does not match its digest: \(error)")
        }
        var blobs: [Descriptor] = []
        for entry in resolution.entries {
            blobs.append(Descriptor(mediaType: entry.manifest.mediaType, digest: entry.manifest.digest, size: Int64(entry.manifest.bytes.count)))
            blobs.append(entry.image.config)
            blobs.append(contentsOf: entry.image.layers)
        }
        let image = IndexToWrite(
            name: reference.name + (reference.tag.map { ":" + $0 } ?? ""), indexDigest: resolution.top.digest,
            indexSize: Int64(resolution.top.bytes.count), indexMediaType: resolution.top.mediaType, blobs: blobs)
        return (image, statistics)
    }
}
