import Agreement
import Artifacts
import OCI
import Registry

/// `blob_verification = "every-vantage"`, for an image and for a whole index: every answering
/// vantage downloads every layer at once, each with `width` downloads in flight. The preferred
/// vantage (the first source) downloads into the store through `fetcher` (so its layers are
/// verified and kept; `afterStoring` then runs), the others hash and keep nothing. `record` puts
/// what each vantage received (a SHA-256 per layer digest) into its observation; a vantage that
/// fails here becomes a failed observation (tampering is dissent). The caller takes the decision
/// again.
enum EveryVantageHashing {
    static func run<Payload: Sendable>(
        _ verification: inout Verification<ObservedImage, Payload>, layers: [Descriptor], reference: ImageReference, width: Int,
        fetcher: BlobFetcher, afterStoring: @escaping @Sendable () async throws -> Void = {},
        record: (inout ObservedImage, Payload?, [Digest: String]) -> Void
    ) async throws -> BlobFetcher.Statistics {
        let sources = verification.sources
        let store = fetcher.store, registry = reference.registry, repository = reference.repository
        let received = try await BoundedWindow.mapResults(sources) { index, source -> Received in
            guard index == 0 else {
                let hashes = try await BoundedWindow.map(layers, width: width) { _, layer in
                    "sha256:" + (try await source.client.hashBlob(registry: registry, repository: repository, descriptor: layer)).sha256
                }
                return Received(layers: layers, hashes: hashes)
            }
            // What the preferred vantage received is what the store verified.
            let statistics = try await fetcher.fetch(LayerOrder.forWriting(layers))
            try await afterStoring()
            let hashes = try await BlockingIO.run { try layers.map { try store.sha256(of: $0.digest) } }
            return Received(layers: layers, hashes: hashes, statistics: statistics)
        }
        var statistics = BlobFetcher.Statistics()
        for (source, result) in zip(sources, received) {
            switch result {
            case .success(let part):
                statistics = part.statistics ?? statistics
                for index in verification.runs.indices where verification.runs[index].spec.name == source.name {
                    let payload = verification.runs[index].payload
                    if verification.runs[index].observed != nil { record(&verification.runs[index].observed!, payload, part.byDigest) }
                }
            case .failure(let failure):
                verification.fail(source.name, failure)
            }
        }
        return statistics
    }

    /// What one vantage received: the SHA-256 of each layer, and for the one downloading into the
    /// store, what that fetch did.
    struct Received: Sendable {
        var byDigest: [Digest: String]
        var statistics: BlobFetcher.Statistics?

        init(layers: [Descriptor], hashes: [String], statistics: BlobFetcher.Statistics? = nil) {
            byDigest = Dictionary(zip(layers.map(\.digest), hashes), uniquingKeysWith: { first, _ in first })
            self.statistics = statistics
        }
    }
}

extension BoundedWindow {
    /// `work` on every item at once; each item's result or its failure (as a `VantageFailure`), in order.
    static func mapResults<Item: Sendable, Output: Sendable>(
        _ items: [Item], _ work: @escaping @Sendable (Int, Item) async throws -> Output
    ) async throws -> [Result<Output, VantageFailure>] {
        try await map(items, width: max(1, items.count)) { index, item -> Result<Output, VantageFailure> in
            do { return .success(try await work(index, item)) } catch { return .failure(VantageFailure(error)) }
        }
    }
}
