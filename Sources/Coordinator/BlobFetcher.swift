import Artifacts
import Foundation
import OCI
import Registry

/// Brings blobs into the content store, verified against their agreed digests and sizes:
/// bounded concurrency, resume of partial downloads, and another agreeing vantage as fallback
/// when one fails or sends wrong bytes.
struct BlobFetcher: Sendable {
    let store: ContentStore
    /// Agreeing vantages (name and client), preferred first.
    let sources: [(name: String, client: RegistryClient)]
    let reference: ImageReference
    let concurrency: Int
    let events: PullEventSink?

    /// What the fetch had to do: how many blobs came from the network, the cache, or a resumed partial.
    struct Statistics: Sendable, Equatable {
        var downloaded = 0
        var cached = 0
        var resumed = 0
        var bytesReceived: Int64 = 0
    }

    func fetch(_ descriptors: [Descriptor]) async throws -> Statistics {
        var seen: Set<Digest> = []
        let unique = descriptors.filter { seen.insert($0.digest).inserted }
        let missing = unique.filter { !store.contains($0.digest, size: $0.size) }
        events?(.blobsPlanned(count: unique.count, bytes: unique.reduce(Int64(0)) { total, blob in total.addingReportingOverflow(max(0, blob.size)).overflow ? .max : total + max(0, blob.size) }, cached: unique.count - missing.count))
        var statistics = Statistics(cached: unique.count - missing.count)
        try await withThrowingTaskGroup(of: (resumedFrom: Int64?, size: Int64).self) { group in
            var next = missing.makeIterator()
            for _ in 0..<max(1, concurrency) {
                guard let descriptor = next.next() else { break }
                group.addTask { try await fetchOne(descriptor) }
            }
            while let finished = try await group.next() {
                statistics.downloaded += 1
                if let resumedFrom = finished.resumedFrom {
                    statistics.resumed += 1
                    statistics.bytesReceived += finished.size - resumedFrom
                } else {
                    statistics.bytesReceived += finished.size
                }
                if let descriptor = next.next() {
                    group.addTask { try await fetchOne(descriptor) }
                }
            }
        }
        return statistics
    }

    /// Returns the partial length it resumed from (nil when it started from zero) and the blob's size.
    private func fetchOne(_ descriptor: Descriptor) async throws -> (resumedFrom: Int64?, size: Int64) {
        guard descriptor.size >= 0 else {
            throw CoordinatorError(.badInput, "blob \(descriptor.digest) has a negative size in the manifest")
        }
        let partial = store.partialPath(for: descriptor.digest)
        let startedAt = store.partialLength(for: descriptor.digest)
        events?(.blobStarted(digest: descriptor.digest.string, size: descriptor.size, partialPath: partial))
        var failures: [String] = []
        for (name, client) in sources {
            try Task.checkCancellation()
            do {
                let download = try await client.downloadBlob(
                    registry: reference.registry, repository: reference.repository, descriptor: descriptor, to: partial)
                guard download.length == descriptor.size else {
                    try? FileManager.default.removeItem(atPath: partial)
                    throw CoordinatorError(.notMet, "blob \(descriptor.digest): expected \(descriptor.size) bytes, received \(download.length)")
                }
                let store = self.store
                if let sha256 = download.sha256OfWholeFile, descriptor.digest.algorithm == .sha256 {
                    // fsync and rename: blocking, so off the cooperative pool like the rehash below.
                    let length = download.length
                    _ = try await BlockingIO.run { try store.commit(partialFor: descriptor.digest, verifiedSHA256: sha256, size: length) }
                } else {
                    // The file's prefix came from an earlier run: hash all of it, off the cooperative pool.
                    _ = try await BlockingIO.run { try store.verifyAndCommitPartial(for: descriptor.digest, expectedSize: descriptor.size) }
                }
                events?(.blobFinished(digest: descriptor.digest.string, size: descriptor.size))
                return (download.resumed && startedAt > 0 ? startedAt : nil, descriptor.size)
            } catch let error as CancellationError {
                throw error
            } catch {
                failures.append("\(name): \(error)")
            }
        }
        throw CoordinatorError(.notMet, "could not download blob \(descriptor.digest) from any agreeing vantage: \(failures.joined(separator: "; "))")
    }
}
