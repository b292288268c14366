import Agreement
import Artifacts
import Configuration
import Foundation
import OCI
import Registry
import Transport

/// `pull` and `resolve` (and each image of a bundle): the pipeline with the image's observer
/// (every vantage resolves the reference) and its delivery (the agreed layers downloaded once,
/// or hashed by every vantage, and the output written from bytes verified against their digests).
public enum Coordinator {
    public static func run(_ request: PullRequest, events: PullEventSink? = nil) async throws -> PullResult {
        let pipeline = try Pipeline(
            request.vantages, caCertificatePath: request.caCertificatePath, insecureRegistries: request.insecureRegistries,
            credentials: request.credentials, timeout: request.vantageTimeout, policy: request.policy, events: events)
        if request.allPlatforms {
            let outcome = try await pipeline.run(IndexObserver(request), delivery: IndexDelivery(request, events: events))
            return PullResult(request: request, outcome.verification, delivered: outcome.delivered)
        }
        // Layers may start downloading into the store once two vantages agree (`EarlyLayers`);
        // whatever the verdict, none is still downloading when the run returns.
        let early = EarlyLayers(request, events: events)
        var delivery = ImageDelivery(request, events: events)
        delivery?.early = early
        let outcome: (verification: Verification<ObservedImage, ImageResolution>, delivered: ImageDelivery.Delivered?)
        do {
            outcome = try await pipeline.run(ImageObserver(request, early: early), delivery: delivery)
        } catch {
            await early?.stop()
            throw error
        }
        await early?.stop()
        return PullResult(request: request, outcome.verification, delivered: outcome.delivered)
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
            throw StoreFailure.config(error, digest: config.digest.string, storeRoot: store.root)
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

/// The outcome of a pull, a resolve or one image of a bundle: every vantage's part, the
/// decision, and what was written.
public struct PullResult: Sendable {
    public var request: PullRequest
    public var vantages: [ImageRun]
    public var decision: Decision<ObservedImage>
    public var written: WriteResult?
    public var layersDownloaded = 0
    public var layersCached = 0
    /// Downloads that continued a partial file left by an earlier, interrupted run.
    public var layersResumed = 0
    public var bytesReceived: Int64 = 0
    /// The bytes each agreeing route carried (vantage name → bytes), for --json and the bench.
    public var bytesByRoute: [String: Int64] = [:]
    /// Layers the archive writer took straight from their downloads (not read back from the store).
    public var layersStreamed = 0

    public var answeringCount: Int { vantages.filter(\.answered).count }

    init(request: PullRequest, _ verification: Verification<ObservedImage, ImageResolution>, delivered: ImageDelivery.Delivered?) {
        self.request = request
        vantages = verification.runs
        decision = verification.decision
        if let delivered { record(delivered.statistics) }
        written = delivered?.written
        layersStreamed = written?.layersTakenLive ?? 0
    }

    init(request: PullRequest, _ verification: Verification<ObservedImage, IndexResolution>, delivered: ImageDelivery.Delivered?) {
        self.request = request
        // What each vantage resolved stays with the delivery; the result keeps what the report needs.
        vantages = verification.runs.map { run in
            ImageRun(spec: run.spec, route: run.route, observed: run.observed, failure: run.failure, evidence: run.evidence, seconds: run.seconds)
        }
        decision = verification.decision
        if let delivered { record(delivered.statistics) }
        written = delivered?.written
    }

    mutating func record(_ statistics: BlobFetcher.Statistics) {
        layersDownloaded = statistics.downloaded
        layersCached = statistics.cached
        layersResumed = statistics.resumed
        bytesReceived = statistics.bytesReceived
        bytesByRoute = statistics.bytesByRoute
    }
}
