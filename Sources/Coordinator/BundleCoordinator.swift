import Agreement
import Artifacts
import Foundation
import OCI
import Registry

/// Verifies a set of images and writes them as one bundle, only when every image agrees.
///
/// The pipeline's vantages (their clients) are built once for the whole bundle (one SSH session per vantage).
/// 1. Each image runs through the pipeline with the image's observer and no output, a few images
///    at a time (under `blob_verification = "every-vantage"` its delivery hashes every layer on
///    every vantage). No layer is downloaded in this phase under "source", so a set with one
///    refused image costs only manifests.
/// 2. When every image agrees, the agreed layers are fetched into the content store (each blob
///    once, for the first image listing it; blobs already verified there are not fetched again).
/// 3. `BundleWriter` writes all images into one output, which appears only when complete.
public enum BundleCoordinator {
    /// `verified` is called as each image's decision is known (index into `request.images`).
    /// Returns one result per image, in order; `written` is set on each when the bundle was written.
    public static func run(_ request: BundleRequest, verified: (@Sendable (Int, PullResult) -> Void)? = nil) async throws -> [PullResult] {
        guard let first = request.images.first else {
            throw CoordinatorError(.badInput, "the bundle lists no images")
        }
        let pipeline = try Pipeline(
            first.vantages, caCertificatePath: first.caCertificatePath, insecureRegistries: first.insecureRegistries,
            credentials: first.credentials, timeout: first.vantageTimeout, policy: first.policy, events: request.events)
        if first.allPlatforms { return try await IndexBundle.run(request, pipeline: pipeline, verified: verified) }
        let images = request.images.map { image in
            var resolveOnly = image
            resolveOnly.output = nil
            return resolveOnly
        }
        let outcomes = try await pipeline.runEach(
            images.map { (ImageObserver($0), ImageDelivery($0, events: nil)) }, width: request.concurrency, labels: progressLabels(images.map(\.reference))
        ) { index, verification, delivered in
            verified?(index, PullResult(request: images[index], verification, delivered: delivered))
        }
        var results = zip(images, outcomes).map { image, outcome in PullResult(request: image, outcome.verification, delivered: outcome.delivered) }
        guard results.allSatisfy({ $0.decision.verdict == .agree }) else { return results }

        let store = ContentStore(root: first.storeRoot)
        var resolutions: [ImageResolution] = []
        for (result, outcome) in zip(results, outcomes) {
            guard let resolution = outcome.verification.sources.first?.payload else {
                throw CoordinatorError(.notMet, "\(result.request.reference): no agreeing vantage is left to download from")
            }
            resolutions.append(resolution)
        }
        // A layer shared by several images is fetched (and counted) once, for the first image listing it.
        var claimed: Set<Digest> = []
        let assigned = resolutions.map { resolution in
            resolution.manifest.layers.filter { claimed.insert($0.digest).inserted }
        }
        try await BlobFetcher.dropDamaged(assigned.flatMap { $0 }, in: store)
        let events = planOnce(assigned.flatMap { $0 }, store: store, events: request.events)
        let fetches = zip(outcomes, assigned).map { outcome, layers in (sources: outcome.verification.sources.map { ($0.name, $0.client) }, layers: layers) }
        let statistics = try await BoundedWindow.map(fetches, width: request.concurrency) { index, fetch in
            let image = images[index]
            let fetcher = BlobFetcher(store: store, sources: fetch.sources, reference: image.reference, concurrency: image.blobConcurrency, events: events)
            do {
                return try await fetcher.fetch(fetch.layers)
            } catch {
                let failure = CoordinatorError(error)
                throw CoordinatorError(failure.kind, "\(image.reference): \(failure.message)")
            }
        }
        for index in results.indices { results[index].record(statistics[index]) }

        var toWrite: [ImageToWrite] = []
        for (resolution, outcome) in zip(resolutions, outcomes) {
            // Under "source" no vantage fetched the config while resolving: it comes once, here.
            let resolution = try await ImageConfig.received(resolution, from: outcome.verification.sources.map { ($0.name, $0.client) }, store: store)
            try await Coordinator.ingestConfig(resolution, store: store)
            toWrite.append(try Coordinator.imageToWrite(resolution, store: store))
        }
        let bundle = toWrite
        let output = request.output
        request.events?(.writing(path: output.path, format: output.format.rawValue))
        let written: [WriteResult]
        do {
            written = try await BlockingIO.run { try BundleWriter(store: store, format: output.format).write(bundle, to: output.path, journal: output.journal) }
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        for index in results.indices {
            results[index].written = written[index]
        }
        return results
    }

    /// Progress names for a set's images, short and distinct: `app:1`, `tools@sha256:0123456789ab`
    /// (a second image of the same name gets `#2`). Pure.
    static func progressLabels(_ references: [ImageReference]) -> [String] {
        var seen: [String: Int] = [:]
        return references.map { reference in
            let name = reference.repository.split(separator: "/").last.map(String.init) ?? reference.repository
            let label = name + (reference.tag.map { ":" + $0 } ?? reference.digest.map { "@" + String($0.string.prefix(19)) } ?? "")
            seen[label, default: 0] += 1
            let count = seen[label] ?? 1
            return count == 1 ? label : "\(label)#\(count)"
        }
    }

    /// The set's downloads as one plan for the progress display (every image's layers, those in
    /// the store counted as cached), announced now; the sink returned passes on every other event
    /// of the images' fetchers, whose own plans would each replace the whole.
    static func planOnce(_ layers: [Descriptor], store: ContentStore, events: PullEventSink?) -> PullEventSink? {
        guard let events else { return nil }
        var seen: Set<Digest> = []
        let unique = layers.filter { seen.insert($0.digest).inserted }
        let cached = unique.filter { store.contains($0.digest, size: $0.size) }.count
        events(.blobsPlanned(count: unique.count, bytes: unique.reduce(Int64(0)) { $0 + max(0, $1.size) }, cached: cached))
        return { event in
            if case .blobsPlanned = event { return }
            events(event)
        }
    }
}
