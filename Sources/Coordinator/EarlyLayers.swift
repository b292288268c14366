import Agreement
import Artifacts
import Foundation
import OCI
import Registry
import Synchronization

/// Layer downloads that start before the verdict, into the store only.
///
/// Once two vantages have answered with the same observation (the same manifest, config and
/// layers) and the others are still answering `grace` after the resolution began, the config and
/// the layers they agree on start downloading from those two routes (this machine's first), while
/// the slower vantages answer; each vantage that answers the same afterwards is one more route
/// for them (before the downloads begin, a source like the first two; after, it joins the running
/// fetch, `RouteJoins`, and may carry bytes once measured).
/// (When every vantage answers within the grace, as on a LAN, nothing starts early: the delivery
/// then streams each layer from its download into the archive, which an early download, made
/// before the archive's writer exists, cannot do.) Each download goes into the
/// content store through `BlobFetcher`, so every byte is hashed and a blob is committed only if it
/// matches its digest; nothing goes to an output: the output's writer starts only in the delivery,
/// after the full verdict. On agreement the delivery starts the writer at once, and each layer the
/// downloads commit from then on wakes it (`whenCommitted`), so it copies the layers from the
/// store as they land while the rest still come; it lets the downloads run to their end (`drain`)
/// and fetches what they did not bring, streaming it to the writer as usual; what the early downloads
/// committed is read from the store (hashed again on its way into the output). On any
/// other verdict the downloads are cancelled (`stop`) and nothing is written.
///
/// What the early downloads committed stays in the store whatever the verdict: the store is
/// content-addressed and trusts nothing by its name (SECURITY.md, "The cache and the bytes in an
/// output"): a blob there is only bytes that hash to their name, used only when a later agreed
/// manifest names that digest, and hashed again then. A download cancelled part-way leaves its
/// partial file as an interrupted run does; the next download of that blob resumes it and hashes
/// the whole file.
final class EarlyLayers: Sendable {
    /// Answers that must agree before the downloads start.
    static let agreeingAnswers = 2
    /// Downloads a route may run side by side in the spread fetch (the delivery's default).
    static let concurrency = 4
    /// How long after the resolution began the verdict must still be out before the downloads start.
    static let grace: Duration = .milliseconds(250)

    /// One vantage's answer, as the decision sees it.
    struct Answer {
        var name: String
        var isLocal: Bool
        var observed: ObservedImage
    }

    private struct State {
        var answers: [Answer] = []
        var clients: [String: RegistryClient] = [:]
        var downloads: Task<BlobFetcher.Statistics, Never>?
        /// What the downloads are for, and the vantages they come from (or joined).
        var agreed: ObservedImage?
        var sources: [BlobFetcher.Source] = []
        /// The grace is over and the downloads began.
        var began = false
        var stopping = false
        /// Told of each layer the downloads commit (the delivery's writer, once it has started).
        var onCommit: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())
    let store: ContentStore
    let reference: ImageReference
    /// When the resolution began (this was made just before): the grace counts from then.
    let resolutionStart = ContinuousClock.now
    /// Agreeing vantages that answer after the downloads began.
    private let joins = RouteJoins()
    /// Progress of the early downloads (each layer started, its bytes, verified), without the
    /// plan each one-layer fetch would announce: the delivery announces the whole plan once the
    /// verdict is in (`announce`).
    let events: PullEventSink?

    /// nil when early downloads cannot help: no output (nothing to download), every vantage hashing
    /// every blob (the delivery downloads over every route anyway), too few vantages for two
    /// answers to come before the last, or a policy with time rules (its history may refuse the
    /// agreed digest, and then no layer is to be downloaded at all).
    init?(_ request: PullRequest, events: PullEventSink? = nil) {
        guard request.output != nil, request.policy.blobVerification == .source, !request.policy.timeRules.needHistory,
            request.vantages.count > Self.agreeingAnswers
        else { return nil }
        store = ContentStore(root: request.storeRoot)
        reference = request.reference
        self.events = events.map(Self.withoutPlans)
    }

    static func withoutPlans(_ sink: @escaping PullEventSink) -> PullEventSink {
        { @Sendable event in
            if case .blobsPlanned = event { return }
            sink(event)
        }
    }

    /// A vantage answered: once `agreeingAnswers` answers are the same, the downloads start: the
    /// config first (small, and else the one exchange left between the verdict and the writer,
    /// `ImageConfig`, which finds it in the store), then the layers. A later answer that is the
    /// same is one more route for them (a source before they begin, else it joins them).
    func answered(_ vantage: VantageClient, observed: ObservedImage, config: Descriptor, layers: [Descriptor]) {
        state.withLock { state in
            guard !state.stopping else { return }
            if let agreed = state.agreed {
                guard observed == agreed, !state.sources.contains(where: { $0.name == vantage.spec.name }) else { return }
                if state.began {
                    state.sources.append((vantage.spec.name, vantage.client))
                    joins.add((vantage.spec.name, vantage.client))
                    return
                }
            }
            state.answers.append(Answer(name: vantage.spec.name, isLocal: vantage.spec.kind == .local, observed: observed))
            state.clients[vantage.spec.name] = vantage.client
            guard let names = Self.sources(state.answers) else { return }
            state.sources = names.compactMap { name in state.clients[name].map { (name: name, client: $0) } }
            // An answer that agrees during the grace is one more source (this machine's first).
            guard state.agreed == nil else { return }
            state.agreed = observed
            let events = self.events
            let layerEvents: PullEventSink = { [self] event in
                if case .blobFinished = event { committed() }
                events?(event)
            }
            let ordered = LayerOrder.forWriting(layers)
            let start = resolutionStart + Self.grace
            let (store, reference, joins) = (self.store, self.reference, self.joins)
            state.downloads = Task {
                try? await Task.sleep(until: start)
                guard let sources = self.begin() else { return BlobFetcher.Statistics() }
                // Every layer in one fetch over the agreeing routes (at least `agreeingAnswers`),
                // spread by what each is measured to deliver (`RoutePlanner`, which also runs small
                // layers side by side on a route); on agreement it runs to its end (`drain`), else
                // it is cancelled.
                var fetcher = BlobFetcher(store: store, sources: sources, reference: reference, concurrency: Self.concurrency, events: layerEvents)
                fetcher.joins = joins
                // The config is no layer: no progress events for it. Not counted with the layers'
                // bytes, as the delivery's config fetch is not.
                let configFetcher = BlobFetcher(store: store, sources: sources, reference: reference, concurrency: 1, events: nil)
                _ = try? await configFetcher.fetch([config])
                return (try? await fetcher.fetch(ordered)) ?? BlobFetcher.Statistics()
            }
        }
    }

    /// *Pure*: the vantages the early downloads come from, once the latest answer makes
    /// `agreeingAnswers` answers the same (this machine's first, then in the order they
    /// answered); nil until then.
    static func sources(_ answers: [Answer]) -> [String]? {
        guard let latest = answers.last else { return nil }
        let agreeing = answers.filter { $0.observed == latest.observed }
        guard agreeing.count >= agreeingAnswers else { return nil }
        return (agreeing.filter(\.isLocal) + agreeing.filter { !$0.isLocal }).map(\.name)
    }

    /// The routes the downloads begin with, if they may (the verdict is still out: nil if it is
    /// in); they have begun once it says so, and later agreeing answers join them.
    private func begin() -> [BlobFetcher.Source]? {
        state.withLock { state in
            guard !state.stopping else { return nil }
            state.began = true
            return state.sources
        }
    }

    /// The verdict is agreement: when early downloads began, the progress shows every layer to
    /// download from now on (the one still running with them), through `sink`.
    func announce(_ layers: [Descriptor], to sink: PullEventSink?) {
        guard let sink, state.withLock(\.began) else { return }
        var seen: Set<Digest> = []
        let unique = layers.filter { seen.insert($0.digest).inserted }
        sink(.blobsPlanned(count: unique.count, bytes: unique.reduce(Int64(0)) { $0 + max(0, $1.size) }, cached: 0))
    }

    /// The verdict is agreement: a grace still running will not begin the downloads (begun, their
    /// one fetch runs to its end). Whether they began.
    func verdictIn() -> Bool {
        // Every vantage has answered: no route joins any more.
        joins.close()
        return state.withLock { state in
            state.stopping = true
            return state.began
        }
    }

    /// `body` is told of each layer the downloads commit from now on (and once now, for what
    /// they committed before): the delivery's writer, started while they run, then copies each
    /// layer from the store as it lands instead of waiting for the last one.
    func whenCommitted(_ body: @escaping @Sendable () -> Void) {
        state.withLock { $0.onCommit = body }
        body()
    }

    private func committed() {
        state.withLock(\.onCommit)?()
    }

    /// The verdict is agreement (`verdictIn`): waits for the downloads that began to end (a grace
    /// still running ends at once). What the early downloads brought (nil: none began).
    func drain() async -> BlobFetcher.Statistics? {
        joins.close()
        let (downloads, began) = state.withLock { state in
            state.stopping = true
            return (state.downloads, state.began)
        }
        guard began else {
            downloads?.cancel()
            _ = await downloads?.value
            return nil
        }
        return await downloads?.value
    }

    /// The verdict is not agreement (or the run failed): the downloads are cancelled and waited for.
    func stop() async {
        joins.close()
        let downloads = state.withLock { state in
            state.stopping = true
            return state.downloads
        }
        downloads?.cancel()
        _ = await downloads?.value
    }
}

extension BlobFetcher.Statistics {
    /// The delivery's statistics with what the early downloads brought: a blob they committed
    /// counts as downloaded (the delivery found it cached).
    mutating func include(early: BlobFetcher.Statistics) {
        downloaded += early.downloaded
        cached = max(0, cached - early.downloaded)
        resumed += early.resumed
        bytesReceived += early.bytesReceived
        bytesByRoute.merge(early.bytesByRoute, uniquingKeysWith: +)
    }
}
