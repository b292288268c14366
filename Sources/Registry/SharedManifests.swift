import Foundation
import OCI
import Synchronization

/// Manifests fetched by digest during one run, shared by every vantage's client.
///
/// A manifest named by a digest is content-addressed: once one route brought bytes that hash to
/// the digest, every route would have to bring those same bytes. So when a vantage's index names
/// the platform's manifest by a digest another vantage already fetched (and checked against that
/// digest), the vantage takes that copy instead of asking its own route again: one round trip
/// fewer on every route, the slowest included. What each vantage witnesses is unchanged: its own
/// tag → index answer (digest computed from the bytes its route brought), and through the index
/// the platform manifest's digest and size, which it checks against the shared copy. A vantage
/// whose index names another digest finds nothing here and fetches that one itself.
///
/// Only under `blob_verification = "source"`; under "every-vantage" each vantage fetches everything
/// over its own route.
public final class SharedManifests: Sendable {
    private let shelf = Mutex<[Digest: FetchedManifest]>([:])

    public init() {}

    /// A manifest some vantage fetched and checked against `digest`, if any.
    func manifest(_ digest: Digest) -> FetchedManifest? {
        shelf.withLock { $0[digest] }
    }

    /// Keeps a manifest whose bytes were checked against `digest` (the digest it was asked for).
    func keep(_ manifest: FetchedManifest, as digest: Digest) {
        guard manifest.digest == digest else { return }
        shelf.withLock { shelf in
            if shelf[digest] == nil { shelf[digest] = manifest }
        }
    }

    /// How many manifests are kept (for tests).
    public var count: Int { shelf.withLock(\.count) }
}
