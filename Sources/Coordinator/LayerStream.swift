import Artifacts
import OCI
import Registry

/// The one seam between the layer downloads and the output. The pipeline hands it the agreed
/// image; the layers come out verified in the store and, with an output, in the output being
/// staged beside its destination. An archive takes each layer from its download as it arrives
/// where it can (else from the store, hashed again on the way). How is private: `LayerGate`,
/// `LayerFeed`, `DownloadRamp` inside `BlobFetcher`, and the writer's thread of its own.
///
/// Use: `start` once the verdict is agreement, then the fetch (`fetch`, or `fetcher` for a fetch
/// run by the caller), then `fetchFinished` and one of `commit` or `discard`; or, when the fetch
/// throws, `abandon`. The orders the streaming rests on are kept here, not by the caller:
/// `abandon` aborts the gate before it waits for the writer (a writer waiting for a layer the
/// failed fetch will never bring would otherwise never end), and every fetcher it makes tells
/// the gate of each commit.
struct LayerStream: Sendable {
    let store: ContentStore
    private let gate: LayerGate
    private let staging: Task<StagedArtifact, any Error>?

    /// Removes cached layers of `resolution` that no longer match their digest (so they are
    /// downloaded again), and, with an `output`, puts the config in the store and starts staging
    /// the output on a thread of its own (it waits for each layer the fetch has not brought yet).
    static func start(_ resolution: ImageResolution, output: PullRequest.Output?, store: ContentStore) async throws -> LayerStream {
        let gate = LayerGate(store: store, streamsToWriter: output.map { $0.format != .oci } ?? false)
        try await BlobFetcher.dropDamaged(resolution.manifest.layers, in: store)
        guard let output else { return LayerStream(store: store, gate: gate, staging: nil) }
        try await Coordinator.ingestConfig(resolution, store: store)
        let image = try Coordinator.imageToWrite(resolution, store: store)
        let availability = gate.availability
        // The writer waits at the gate for commits that the fetch runs on `BlockingIO.run`'s few
        // threads: it must not hold one of them.
        let staging = Task {
            try await BlockingIO.runOnOwnThread(named: "3tofu.archive-writer") {
                // However the writer ends, no download may wait for it any more.
                defer { gate.writerFinished() }
                return try ArtifactWriter.stage(
                    image, format: output.format, to: output.path, store: store, layerAvailability: availability, liveLayers: gate)
            }
        }
        return LayerStream(store: store, gate: gate, staging: staging)
    }

    /// A fetcher into the store whose downloads stream to the output's writer where they can.
    func fetcher(sources: [(name: String, client: RegistryClient)], reference: ImageReference, concurrency: Int, events: PullEventSink?) -> BlobFetcher {
        BlobFetcher(store: store, sources: sources, reference: reference, concurrency: concurrency, events: gate.forwarding(events), gate: gate)
    }

    /// Fetches `layers` in the order the writer takes them.
    func fetch(_ layers: [Descriptor], sources: [(name: String, client: RegistryClient)], reference: ImageReference, concurrency: Int, events: PullEventSink?) async throws -> BlobFetcher.Statistics {
        try await fetcher(sources: sources, reference: reference, concurrency: concurrency, events: events).fetch(LayerOrder.forWriting(layers))
    }

    /// A layer was committed by downloads the stream did not start (`EarlyLayers`): the writer,
    /// waiting for it, looks at the store again.
    func layerStored() {
        gate.layerStored()
    }

    /// The fetch finished: the writer waits for nothing more (what is still missing fails it).
    func fetchFinished() {
        gate.close()
    }

    /// The fetch failed or was cancelled: the writer stops at its next layer instead of copying
    /// what the store holds, and the staged output is removed.
    func abandon() async {
        gate.abort()
        await discard()
    }

    /// Waits for the staged output and removes it (the verdict after the downloads is not agreement).
    func discard() async {
        guard let staging, let staged = try? await staging.value else { return }
        staged.discard()
    }

    /// Waits for the staged output and puts it in place (through `journal`, so a later failure
    /// of the run can take it back); nil without an output.
    func commit(journal: CommitJournal?) async throws -> WriteResult? {
        guard let staging else { return nil }
        let staged = try await staging.value
        return try await BlockingIO.run { try staged.commit(journal: journal) }
    }
}
