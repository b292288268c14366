import Agreement
import Artifacts
import Foundation
import OCI
import Registry

/// `pull --images-from FILE --all-platforms`: a bundle of whole indexes. Each image is verified
/// with the index observer (every entry of its index compared, no layer downloaded under
/// "source"); only when every image agrees are their blobs brought into the store and all
/// indexes written into one OCI layout or oci-archive, each named by its full name.
enum IndexBundle {
    static func run(_ request: BundleRequest, pipeline: Pipeline, verified: (@Sendable (Int, PullResult) -> Void)?) async throws -> [PullResult] {
        let images = request.images.map { image in
            var resolveOnly = image
            resolveOnly.output = nil
            return resolveOnly
        }
        let outcomes = try await pipeline.runEach(
            images.map { (IndexObserver($0), IndexDelivery($0, events: nil)) }, width: request.concurrency,
            labels: BundleCoordinator.progressLabels(images.map(\.reference))
        ) { index, verification, delivered in
            verified?(index, PullResult(request: images[index], verification, delivered: delivered))
        }
        var results = zip(images, outcomes).map { image, outcome in PullResult(request: image, outcome.verification, delivered: outcome.delivered) }
        guard results.allSatisfy({ $0.decision.verdict == .agree }), let first = images.first else { return results }

        let store = ContentStore(root: first.storeRoot)
        let resolutions = outcomes.compactMap { $0.verification.sources.first?.payload }
        let events = BundleCoordinator.planOnce(resolutions.flatMap(\.layers), store: store, events: request.events)
        var toWrite: [IndexToWrite] = []
        for (index, outcome) in outcomes.enumerated() {
            let image = images[index]
            guard let resolution = outcome.verification.sources.first?.payload else {
                throw CoordinatorError(.notMet, "\(image.reference): no agreeing vantage is left to download from")
            }
            do {
                let stored = try await IndexDelivery.store(
                    resolution, sources: outcome.verification.sources.map { ($0.name, $0.client) }, store: store, concurrency: image.blobConcurrency,
                    events: events)
                results[index].record(stored.statistics)
                toWrite.append(stored.image)
            } catch {
                let failure = CoordinatorError(error)
                throw CoordinatorError(failure.kind, "\(image.reference): \(failure.message)")
            }
        }
        let bundle = toWrite
        let output = request.output
        request.events?(.writing(path: output.path, format: output.format.rawValue))
        let written: [WriteResult]
        do {
            written = try await BlockingIO.run {
                try IndexLayoutWriter(store: store, format: output.format).write(bundle, to: output.path, journal: output.journal, fullNames: true)
            }
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        for index in results.indices { results[index].written = written[index] }
        return results
    }
}
