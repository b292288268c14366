import Agreement
import Artifacts
import Foundation
import OCI
import Registry

/// An image's observer: the vantage resolves the reference (token, manifest or index, the
/// platform's manifest; under "every-vantage" also the config blob, hashed as received: under
/// "source" the delivery fetches it once, `ImageConfig`, and a platform manifest another vantage
/// already fetched by the digest its index names is not fetched again, `SharedManifests`). With `early`, each answer is told to
/// it, so the layers can start downloading into the store once two vantages agree.
struct ImageObserver: SubjectObserver {
    let reference: ImageReference
    let platform: Platform
    let usesPlainHTTP: Bool
    let history: TimeRules.History?
    let fetchesConfig: Bool
    let early: EarlyLayers?
    /// Under "source": the platform manifests the vantages fetched by digest, shared among them
    /// for the run (`SharedManifests`: content-addressed, so one route's checked copy is every
    /// route's); nil under "every-vantage", where each route brings everything itself.
    let sharedManifests: SharedManifests?

    init(_ request: PullRequest, early: EarlyLayers? = nil) {
        reference = request.reference
        platform = request.platform
        usesPlainHTTP = request.usesInsecureRegistry
        history = request.history
        fetchesConfig = request.policy.blobVerification == .everyVantage
        sharedManifests = fetchesConfig ? nil : SharedManifests()
        self.early = early
    }

    func history(for runs: [ImageRun]) -> TimeRules.History? { history }

    func observe(through vantage: VantageClient) async throws -> VantageAnswer<ObservedImage, ImageResolution> {
        let resolution = try await vantage.client.resolve(reference, platform: platform, fetchingConfig: fetchesConfig, shared: sharedManifests)
        let observed = Self.observed(resolution)
        early?.answered(vantage, observed: observed, config: resolution.manifest.config, layers: resolution.manifest.layers)
        return VantageAnswer(subject: observed, payload: resolution, evidence: ReportBuilder.evidence(resolution.top))
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
    /// Layer downloads started before the verdict (`EarlyLayers`), if any.
    var early: EarlyLayers?

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
        guard let primary = verification.sources.first, var resolution = primary.payload else { return Delivered() }
        // The downloads started before the verdict run on; what they commit is found in the store
        // by the writer as each layer lands, and by the fetch below.
        early?.announce(resolution.manifest.layers, to: events)
        let earlyBegan = early?.verdictIn() ?? false
        if output != nil {
            resolution = try await ImageConfig.received(resolution, from: verification.sources.map { ($0.name, $0.client) }, store: store)
        }
        let stream = try await LayerStream.start(resolution, output: output, store: store)
        if earlyBegan { early?.whenCommitted { stream.layerStored() } }
        let early = await early?.drain()
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
        if let early { delivered.statistics.include(early: early) }
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

    /// Every answering vantage downloads and hashes every layer (`EveryVantageHashing`); the
    /// preferred one into the store through the stream's fetcher, then the config.
    func hashEverywhere(_ verification: inout Verification<ObservedImage, ImageResolution>, stream: LayerStream) async throws -> BlobFetcher.Statistics {
        guard let primary = verification.sources.first, let resolution = primary.payload else { return BlobFetcher.Statistics() }
        let store = stream.store
        let fetcher = stream.fetcher(sources: [(primary.name, primary.client)], reference: reference, concurrency: blobConcurrency, events: events)
        return try await EveryVantageHashing.run(
            &verification, layers: resolution.manifest.layers, reference: reference, width: blobConcurrency, fetcher: fetcher,
            afterStoring: { try await Coordinator.ingestConfig(resolution, store: store) }
        ) { observed, payload, received in
            observed.layersReceived = payload?.manifest.layers.map { received[$0.digest] ?? "(not received)" }
        }
    }
}
