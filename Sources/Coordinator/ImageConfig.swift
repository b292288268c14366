import Artifacts
import Foundation
import OCI
import Registry

/// An image's config blob, fetched once, by the delivery, from an agreeing vantage.
///
/// The vantages compare the manifest, and the manifest fixes the config's digest and size: once
/// they agree on it, which route carries the config's bytes no longer matters for trust, exactly
/// as for a layer. So under `blob_verification = "source"` no vantage fetches the config while
/// it resolves (one exchange fewer on every route, the slowest included); the delivery fetches it
/// here, once, and keeps it only if it hashes to the agreed digest. Under "every-vantage" every
/// vantage still fetches it while it resolves (`ImageObserver`), and its bytes are compared.
enum ImageConfig {
    /// `resolution` with its config bytes: those a vantage received (every-vantage), none when
    /// the store already holds a config that still hashes to its digest, else fetched from
    /// `sources` in order, the first whose bytes are the agreed config.
    static func received(_ resolution: ImageResolution, from sources: [(name: String, client: RegistryClient)], store: ContentStore) async throws -> ImageResolution {
        guard resolution.config == nil else { return resolution }
        let config = resolution.manifest.config
        // `read` removes a cached config that no longer hashes to its digest.
        let cached = try await BlockingIO.run { store.contains(config.digest, size: config.size) && (try? store.read(config.digest)) != nil }
        if cached { return resolution }
        var resolution = resolution
        resolution.config = try await fetch(config, of: resolution.reference, from: sources)
        return resolution
    }

    /// The config's bytes from the first source that sends the bytes its digest names; a route
    /// that sends others is passed over, as for a layer (its bytes are never used).
    static func fetch(_ config: Descriptor, of reference: ImageReference, from sources: [(name: String, client: RegistryClient)]) async throws -> RegistryClient.SmallBlob {
        var failures: [String] = []
        var kinds: [CoordinatorError.Kind] = []
        for source in sources {
            do {
                let blob = try await source.client.fetchSmallBlob(registry: reference.registry, repository: reference.repository, descriptor: config)
                let hex = config.digest.algorithm == .sha256 ? blob.sha256 : DigestHasher.digest(of: blob.bytes, algorithm: config.digest.algorithm)
                if hex == config.digest.encoded, Int64(blob.bytes.count) == config.size { return blob }
                kinds.append(.tampering)
                failures.append("\(source.name) sent \(blob.bytes.count) bytes that hash to \(config.digest.algorithm.rawValue):\(hex)")
            } catch {
                let failure = CoordinatorError(error)
                kinds.append(failure.kind)
                failures.append("\(source.name): \(failure.message)")
            }
        }
        // Wrong bytes are tampering (exit 1); a request that cannot work anywhere (a refused
        // redirect or login) is bad input (exit 2); anything else, not met (exit 3).
        let kind: CoordinatorError.Kind =
            kinds.contains(.tampering) ? .tampering : !kinds.isEmpty && kinds.allSatisfy { $0 == .badInput } ? .badInput : .notMet
        throw CoordinatorError(kind, "the config blob \(config.digest) of \(reference) could not be fetched from an agreeing vantage (\(failures.joined(separator: "; ")))")
    }
}
