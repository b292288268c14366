import Agreement
import Artifacts
import Foundation
import OCI
import Registry

/// An image's observer: the vantage resolves the reference (token, manifest or index, the
/// platform's manifest, the config blob hashed as received).
struct ImageObserver: SubjectObserver {
    let reference: ImageReference
    let platform: Platform
    let usesPlainHTTP: Bool
    let history: TimeRules.History?

    init(_ request: PullRequest) {
        reference = request.reference
        platform = request.platform
        usesPlainHTTP = request.usesInsecureRegistry
        history = request.history
    }

    func history(for runs: [ImageRun]) -> TimeRules.History? { history }

    func observe(through vantage: VantageClient) async throws -> VantageAnswer<ObservedImage, ImageResolution> {
        let resolution = try await vantage.client.resolve(reference, platform: platform)
        return VantageAnswer(subject: Self.observed(resolution), payload: resolution, evidence: ReportBuilder.evidence(resolution.top))
    }

    /// What `Agreement` compares of a resolution.
    static func observed(_ resolution: ImageResolution) -> ObservedImage {
        ObservedImage(
            topDigest: resolution.top.digest.string,
            topMediaType: resolution.top.mediaType,
            platformManifestDigest: resolution.platformManifest?.digest.string,
            configDigest: resolution.manifest.config.digest.string,
            layers: resolution.manifest.layers.map { ObservedImage.Layer(digest: $0.digest.string, size: $0.size) },
            configReceived: resolution.config.map { "sha256:" + $0.sha256 },
            layersReceived: nil)
    }
}

/// An image's delivery. Under `blob_verification = "source"` the agreed layers are downloaded
/// once, from an agreeing vantage (another on failure), into the store; under "every-vantage"
/// every answering vantage downloads and hashes every layer and the decision is taken again with
/// those hashes. With an output, it is assembled while the layers download (`LayerStream`) and
/// put in place only if the verdict after every download is still agreement.
struct ImageDelivery: SubjectDelivery {
    struct Delivered: Sendable {
        var statistics = BlobFetcher.Statistics()
        var written: WriteResult?
    }

    let reference: ImageReference
    let output: PullRequest.Output?
    let store: ContentStore
    let everyVantage: Bool
    let blobConcurrency: Int
    let events: PullEventSink?

    /// nil when there is nothing to deliver: no output, and the policy needs no layer hashed.
    init?(_ request: PullRequest, events: PullEventSink?) {
        everyVantage = request.policy.blobVerification == .everyVantage
        guard request.output != nil || everyVantage else { return nil }
        reference = request.reference
        output = request.output
        store = ContentStore(root: request.storeRoot)
        blobConcurrency = request.blobConcurrency
        self.events = events
    }

    func deliver(_ verification: inout Verification<ObservedImage, ImageResolution>) async throws -> Delivered {
        guard let primary = verification.sources.first, let resolution = primary.payload else { return Delivered() }
        let stream = try await LayerStream.start(resolution, output: output, store: store)
        var delivered = Delivered()
        do {
            if everyVantage {
                delivered.statistics = try await hashEverywhere(&verification, stream: stream)
                verification.decideAgain()
            } else {
                delivered.statistics = try await stream.fetch(
                    resolution.manifest.layers, sources: verification.sources.map { ($0.name, $0.client) }, reference: reference,
                    concurrency: blobConcurrency, events: events)
            }
        } catch {
            await stream.abandon()
            throw error
        }
        stream.fetchFinished()
        guard let output else { return delivered }
        guard verification.decision.verdict == .agree else {
            await stream.discard()
            return delivered
        }
        events?(.writing(path: output.path, format: output.format.rawValue))
        do {
            delivered.written = try await stream.commit(journal: output.journal)
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        return delivered
    }

    /// Every answering vantage downloads every layer at once, each with the same bounded
    /// concurrency: the preferred one into the store (through the stream's fetcher), the others
    /// hashing and keeping nothing. What each received becomes its `layersReceived`; a vantage
    /// that fails here becomes a failed observation (tampering is dissent).
    func hashEverywhere(_ verification: inout Verification<ObservedImage, ImageResolution>, stream: LayerStream) async throws -> BlobFetcher.Statistics {
        let sources = verification.sources
        guard let primary = sources.first, let resolution = primary.payload else { return BlobFetcher.Statistics() }
        let layers = resolution.manifest.layers
        let fetcher = stream.fetcher(sources: [(primary.name, primary.client)], reference: reference, concurrency: blobConcurrency, events: events)
        let store = stream.store
        let received = try await BoundedWindow.map(sources, width: sources.count) { index, source -> Result<Received, VantageFailure> in
            do {
                guard index == 0 else { return .success(Received(hashes: try await hashLayers(source))) }
                // What the primary received is what the store verified.
                let statistics = try await fetcher.fetch(LayerOrder.forWriting(layers))
                try await Coordinator.ingestConfig(resolution, store: store)
                let hashes = try await BlockingIO.run { try layers.map { try store.sha256(of: $0.digest) } }
                return .success(Received(hashes: hashes, statistics: statistics))
            } catch {
                return .failure(VantageFailure(error))
            }
        }
        var statistics = BlobFetcher.Statistics()
        for (source, result) in zip(sources, received) {
            switch result {
            case .success(let part):
                statistics = part.statistics ?? statistics
                for index in verification.runs.indices where verification.runs[index].spec.name == source.name {
                    verification.runs[index].observed?.layersReceived = part.hashes
                }
            case .failure(let failure):
                verification.fail(source.name, failure)
            }
        }
        return statistics
    }

    /// What one vantage received under every-vantage verification: the SHA-256 of each layer, in
    /// manifest order, and for the one downloading into the store, what that fetch did.
    struct Received: Sendable {
        var hashes: [String]
        var statistics: BlobFetcher.Statistics?
    }

    /// One vantage downloads and hashes every layer of its resolution (nothing kept), at most
    /// `blobConcurrency` at a time; "sha256:<hex>" of each, in manifest order.
    func hashLayers(_ source: Verification<ObservedImage, ImageResolution>.Source) async throws -> [String] {
        guard let layers = source.payload?.manifest.layers else { return [] }
        let client = source.client, registry = reference.registry, repository = reference.repository
        return try await BoundedWindow.map(layers, width: blobConcurrency) { _, layer in
            "sha256:" + (try await client.hashBlob(registry: registry, repository: repository, descriptor: layer)).sha256
        }
    }
}
