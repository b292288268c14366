import Agreement
import Artifacts
import Foundation
import OCI
import Registry

/// Verifies a set of images and writes them as one bundle, only when every image agrees.
///
/// The vantages' clients are built once for the whole bundle (one SSH session per vantage).
/// 1. Each image runs through `Coordinator.run` with no output (every vantage resolves it, the
///    agreement is decided), a few images at a time. No layer is downloaded in this phase under
///    `blob_verification = "source"`, so a set with one refused image costs only manifests.
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
        // One client per vantage for the whole bundle: every image and the download phase use them.
        let clients = try Coordinator.makeClients(first)
        var results = try await verifyAll(request, clients: clients, verified: verified)
        guard results.allSatisfy({ $0.decision.verdict == .agree }) else { return results }

        let store = ContentStore(root: first.storeRoot)
        var resolutions: [ImageResolution] = []
        for result in results {
            guard let resolution = Coordinator.preferredSources(result.vantages, clients: clients).first?.resolution else {
                throw CoordinatorError(.notMet, "\(result.request.reference): no agreeing vantage is left to download from")
            }
            resolutions.append(resolution)
        }
        // A layer shared by several images is fetched (and counted) once, for the first image listing it.
        var claimed: Set<Digest> = []
        let assigned = resolutions.map { resolution in
            resolution.manifest.layers.filter { claimed.insert($0.digest).inserted }
        }
        let statistics = try await fetchAll(request, results: results, layers: assigned, clients: clients, store: store)
        for index in results.indices {
            results[index].layersDownloaded = statistics[index].downloaded
            results[index].layersCached = statistics[index].cached
            results[index].layersResumed = statistics[index].resumed
            results[index].bytesReceived = statistics[index].bytesReceived
        }

        var toWrite: [ImageToWrite] = []
        for resolution in resolutions {
            try await Coordinator.ingestConfig(resolution, store: store)
            toWrite.append(try Coordinator.imageToWrite(resolution, store: store))
        }
        let images = toWrite
        let output = request.output
        let written: [WriteResult]
        do {
            written = try await BlockingIO.run { try BundleWriter(store: store, format: output.format).write(images, to: output.path, journal: output.journal) }
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        for index in results.indices {
            results[index].written = written[index]
        }
        return results
    }

    /// Every image through `Coordinator.run` with no output, at most `request.concurrency` at once.
    static func verifyAll(
        _ request: BundleRequest, clients: [Coordinator.VantageClient], verified: (@Sendable (Int, PullResult) -> Void)?
    ) async throws -> [PullResult] {
        try await withThrowingTaskGroup(of: (Int, PullResult).self) { group in
            var pending = request.images.enumerated().makeIterator()
            func startNext() {
                guard let (index, image) = pending.next() else { return }
                var resolveOnly = image
                resolveOnly.output = nil
                group.addTask {
                    let result = try await Coordinator.run(resolveOnly, clients: clients)
                    verified?(index, result)
                    return (index, result)
                }
            }
            for _ in 0..<max(1, request.concurrency) { startNext() }
            var results: [(Int, PullResult)] = []
            while let finished = try await group.next() {
                results.append(finished)
                startNext()
            }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// Fetches each image's assigned layers into the store, a few images at a time; per-image statistics.
    static func fetchAll(
        _ request: BundleRequest, results: [PullResult], layers: [[Descriptor]], clients: [Coordinator.VantageClient], store: ContentStore
    ) async throws -> [BlobFetcher.Statistics] {
        try await BlobFetcher.dropDamaged(layers.flatMap { $0 }, in: store)
        return try await withThrowingTaskGroup(of: (Int, BlobFetcher.Statistics).self) { group in
            var pending = results.indices.makeIterator()
            func startNext() {
                guard let index = pending.next() else { return }
                let result = results[index]
                let sources = Coordinator.preferredSources(result.vantages, clients: clients).map { ($0.name, $0.client) }
                let fetcher = BlobFetcher(
                    store: store, sources: sources, reference: result.request.reference,
                    concurrency: result.request.blobConcurrency, events: nil)
                let wanted = layers[index]
                group.addTask {
                    do {
                        return (index, try await fetcher.fetch(wanted))
                    } catch let error as CoordinatorError {
                        throw CoordinatorError(error.kind, "\(result.request.reference): \(error.message)")
                    } catch {
                        throw CoordinatorError(.notMet, "\(result.request.reference): could not download the agreed layers: \(error)")
                    }
                }
            }
            for _ in 0..<max(1, request.concurrency) { startNext() }
            var statistics = [BlobFetcher.Statistics](repeating: BlobFetcher.Statistics(), count: results.count)
            while let (index, fetched) = try await group.next() {
                statistics[index] = fetched
                startNext()
            }
            return statistics
        }
    }
}
