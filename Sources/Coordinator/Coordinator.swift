import Agreement
import Artifacts
import Configuration
import Foundation
import OCI
import Registry
import Transport

/// Runs every vantage on the same request, hands the observations to `Agreement`, and only on
/// agreement lets `Artifacts` write the output from bytes verified against the agreed digests.
public enum Coordinator {
    public static func run(_ request: PullRequest, events: PullEventSink? = nil) async throws -> PullResult {
        let clients = try makeClients(request)
        events?(.resolving(vantages: request.vantages.map(\.name)))
        let runs = await resolveEverywhere(request, clients: clients, events: events)
        let observations = runs.map(Self.observation)
        let decision = Agreement.decide(observations, policy: request.policy, usedInsecureRegistry: request.usesInsecureRegistry)
        var result = PullResult(request: request, vantages: runs, decision: decision, written: nil)
        guard decision.verdict == .agree, let output = request.output else { return result }

        // The agreed resolution; every answering vantage saw the same bytes, so any one will do.
        let sources = runs.filter { $0.resolution != nil }.sorted { lhs, rhs in
            (lhs.spec.kind == .local ? 0 : 1) < (rhs.spec.kind == .local ? 0 : 1)
        }
        guard let resolution = sources.first?.resolution else { return result }
        let store = ContentStore(root: request.storeRoot)
        let sourceClients = sources.compactMap { run in
            clients.first { $0.spec.name == run.spec.name }.map { (name: run.spec.name, client: $0.client) }
        }
        let statistics = try await BlobFetcher(
            store: store, sources: sourceClients, reference: request.reference, concurrency: request.blobConcurrency, events: events
        ).fetch([resolution.manifest.config] + resolution.manifest.layers)
        result.blobsDownloaded = statistics.downloaded
        result.blobsCached = statistics.cached
        result.blobsResumed = statistics.resumed
        result.bytesReceived = statistics.bytesReceived

        events?(.writing(path: output.path, format: output.format.rawValue))
        let image = try imageToWrite(resolution, store: store)
        do {
            result.written = try ArtifactWriter.write(image, format: output.format, to: output.path, store: store)
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output.path): \(error)")
        }
        return result
    }

    struct VantageClient: Sendable {
        var spec: VantageSpec
        var route: String
        var client: RegistryClient
    }

    static func makeClients(_ request: PullRequest) throws -> [VantageClient] {
        guard !request.vantages.isEmpty else {
            throw CoordinatorError(.badInput, "no vantages configured")
        }
        return try request.vantages.map { spec in
            let configuration: TransportConfiguration
            switch spec.kind {
            case .local:
                configuration = TransportConfiguration(proxy: nil)
            case .proxy:
                configuration = TransportConfiguration(proxy: spec.proxy)
            case .ssh:
                throw CoordinatorError(.badInput, "vantage '\(spec.name)' is of kind ssh, which this version of 3tofu cannot use yet; remove it from the vantages file or use kinds local and proxy")
            }
            var withCA = configuration
            withCA.extraCACertificatesPath = try CABundles.combined([request.caCertificatePath, spec.caCert].compactMap { $0 })
            let transport: CurlTransport
            do {
                transport = try CurlTransport(configuration: withCA)
            } catch {
                throw CoordinatorError(.badInput, "vantage '\(spec.name)': \(error)")
            }
            let client = RegistryClient(transport: transport, credentials: request.credentials, insecureRegistries: request.insecureRegistries)
            return VantageClient(spec: spec, route: transport.route, client: client)
        }
    }

    /// Every vantage resolves on its own, concurrently; one failing does not cancel the others.
    static func resolveEverywhere(_ request: PullRequest, clients: [VantageClient], events: PullEventSink?) async -> [VantageRun] {
        await withTaskGroup(of: (Int, VantageRun).self) { group in
            for (index, vantage) in clients.enumerated() {
                group.addTask {
                    let start = Date()
                    do {
                        let resolution = try await vantage.client.resolve(request.reference, platform: request.platform)
                        events?(.vantageAnswered(name: vantage.spec.name, digest: resolution.top.digest.string))
                        return (index, VantageRun(spec: vantage.spec, route: vantage.route, resolution: resolution, failure: nil, seconds: Date().timeIntervalSince(start)))
                    } catch {
                        let failure = Self.failure(from: error)
                        events?(.vantageFailed(name: vantage.spec.name, message: failure.message))
                        return (index, VantageRun(spec: vantage.spec, route: vantage.route, resolution: nil, failure: failure, seconds: Date().timeIntervalSince(start)))
                    }
                }
            }
            var runs: [(Int, VantageRun)] = []
            for await run in group { runs.append(run) }
            return runs.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    static func failure(from error: any Error) -> VantageFailure {
        switch error {
        case let error as RegistryError: VantageFailure(message: error.message, isBadInput: error.isBadInput)
        case let error as OCIError: VantageFailure(message: error.message, isBadInput: true)
        case let error as TransportError: VantageFailure(message: error.description, isBadInput: false)
        default: VantageFailure(message: String(describing: error), isBadInput: false)
        }
    }

    static func observation(_ run: VantageRun) -> Observation {
        guard let resolution = run.resolution else {
            return Observation(vantage: run.spec.name, kind: run.spec.kind.rawValue, route: run.route, outcome: .failed(run.failure?.message ?? "no answer"))
        }
        let image = ObservedImage(
            topDigest: resolution.top.digest.string,
            topMediaType: resolution.top.mediaType,
            platformManifestDigest: resolution.platformManifest?.digest.string,
            configDigest: resolution.manifest.config.digest.string,
            layers: resolution.manifest.layers.map { ObservedImage.Layer(digest: $0.digest.string, size: $0.size) })
        return Observation(vantage: run.spec.name, kind: run.spec.kind.rawValue, route: run.route, outcome: .observed(image))
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

/// The outcome of a run: every vantage's part, the decision, and what was written.
public struct PullResult: Sendable {
    public var request: PullRequest
    public var vantages: [VantageRun]
    public var decision: Decision
    public var written: WriteResult?
    public var blobsDownloaded = 0
    public var blobsCached = 0
    /// Downloads that continued a partial file left by an earlier, interrupted run.
    public var blobsResumed = 0
    public var bytesReceived: Int64 = 0

    public var answeringCount: Int { vantages.filter { $0.resolution != nil }.count }
}
