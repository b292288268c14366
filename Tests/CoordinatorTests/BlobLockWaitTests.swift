import Artifacts
@testable import Coordinator
import Crypto
import Foundation
import OCI
import Registry
import Testing
import TestSupport

/// A download that finds its blob's lock taken says whose download it waits for: another of this
/// run's (a route or an early download holds the lock in this process) or another 3tofu run's
/// (another process holds it, here flock(1)). The event is taken from the fetcher itself; the
/// holder lets go once it was said, and the blob then arrives.
@Suite struct BlobLockWaitTests {
    enum Holder: String, CaseIterable, Sendable {
        case thisRun
        case anotherProcess
    }

    @Test(arguments: Holder.allCases)
    func aDownloadWaitingAtALockSaysWhoseItWaitsFor(holder: Holder) async throws {
        let directory = try TemporaryDirectory(prefix: "lockwait")
        let store = ContentStore(root: directory.file("store"))
        let blob = Data("a layer two downloads want at once (\(holder.rawValue))".utf8)
        let hex = SHA256.hash(data: blob).map { String(format: "%02x", $0) }.joined()
        let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try Digest(algorithm: .sha256, encoded: hex), size: Int64(blob.count))
        let transport = ScriptedTransport { _ in .init(status: 200, body: blob) }
        let (events, continuation) = AsyncStream<PullEvent>.makeStream()
        let fetcher = BlobFetcher(
            store: store, sources: [("home", RegistryClient(transport: transport))], reference: try ImageReference(parsing: "registry.test/app:1"),
            concurrency: 1, events: { continuation.yield($0) })

        // The lock's holder: a task of this process, or flock(1) (which says "held" once it has it).
        let release: () -> Void
        switch holder {
        case .thisRun:
            let lock = try #require(try store.tryLockBlob(descriptor.digest))
            release = { lock.release() }
        case .anotherProcess:
            try #require(try store.tryLockBlob(Digest(algorithm: .sha256, encoded: String(repeating: "0", count: 64)))).release()  // makes ingest/
            let other = try FlockHolder(path: "\(store.root)/ingest/\(descriptor.digest.encoded).lock")
            #expect(other.said == "held\n")
            release = { other.release() }
        }
        let fetch = Task { try await fetcher.fetch([descriptor]) }
        var said: String?
        for await event in events {
            if case .waitingForThisRun = event { said = "this run"; break }
            if case .waitingForAnotherRun = event { said = "another run"; break }
        }
        release()
        _ = try await fetch.value
        continuation.finish()
        #expect(said == (holder == .thisRun ? "this run" : "another run"))
        #expect(store.contains(descriptor.digest, size: descriptor.size), "the blob arrived once the holder let go")
    }
}
