import Agreement
import Artifacts
import Foundation
import OCI
import Registry
import Report
import Transport

/// `3tofu fetch`: every vantage downloads the file through its own route and hashes it (this
/// machine's vantage keeps its copy in the content store as it streams, the others keep nothing),
/// and reads the published checksum when asked. The output is written only on agreement, from
/// stored bytes whose SHA-256 is the agreed one.
public enum FetchCoordinator {
    /// The most a checksum file may be.
    public static let checksumFileLimit = 4 << 20

    public static func run(_ request: FetchRequest) async throws -> FetchResult {
        try checkURL(request.url)
        let pipeline = try Pipeline(
            request.vantages, caCertificatePath: request.caCertificatePath, insecureRegistries: [], credentials: .none,
            timeout: request.vantageTimeout, policy: request.policy, events: request.events)
        let store = ContentStore(root: request.storeRoot)
        // This machine's vantage keeps its copy in the store as it downloads (when there is an output).
        let keeper = request.outputPath == nil ? nil : (pipeline.vantages.first { $0.spec.kind == .local } ?? pipeline.vantages.first)?.spec.name
        let observer = FileObserver(request: request, keeper: keeper, store: store)
        let outcome = try await pipeline.run(observer, delivery: FileDelivery(request, store: store))
        return FetchResult(request: request, vantages: outcome.verification.runs, decision: outcome.verification.decision, written: outcome.delivered)
    }

    /// A file's observer: the vantage downloads the file through its route and hashes it (the
    /// keeper into the store), and reads the published checksum when asked.
    struct FileObserver: SubjectObserver {
        let request: FetchRequest
        let keeper: String?
        let store: ContentStore
        var usesPlainHTTP: Bool { request.usesPlainHTTP }

        func history(for runs: [FileRun]) -> TimeRules.History? { request.history }

        func observe(through vantage: VantageClient) async throws -> VantageAnswer<ObservedFile, Never> {
            let download: Download
            let progress = TransferProgress()
            request.events?(.vantageDownloading(name: vantage.spec.name, progress: progress))
            do {
                download = try await TransferProgress.$current.withValue(progress) {
                    try await FetchCoordinator.download(
                        request.url, with: vantage.client, keepingIn: vantage.spec.name == keeper ? store : nil, maximumSize: request.maximumSize)
                }
            } catch let error as RegistryError where error.kind == .tooLarge {
                throw RegistryError(.tooLarge, "\(error.message); if the file really is larger, raise --max-size (now \(request.maximumSize) bytes)")
            }
            var published: String?
            if let checksumsURL = request.checksumsURL {
                published = try await FetchCoordinator.publishedSHA256(checksumsURL, name: ChecksumFile.fileName(of: request.url), with: vantage.client)
            }
            let file = ObservedFile(
                url: RegistryClient.redact(request.url), finalURL: RegistryClient.redact(download.chain.last ?? request.url),
                sha256: download.digest.string, size: download.size, publishedSHA256: published)
            return VantageAnswer(subject: file, evidence: ReportBuilder.evidence(download.evidence, chain: download.chain), inconsistency: file.inconsistency)
        }
    }

    /// A file's delivery: the agreed bytes from the store (the keeper's copy, or downloaded again
    /// from an agreeing vantage) to the output, hashed on the way.
    struct FileDelivery: SubjectDelivery {
        let url: String
        let output: String
        let journal: CommitJournal?
        let store: ContentStore
        let events: PullEventSink?

        /// nil without an output: compare only.
        init?(_ request: FetchRequest, store: ContentStore) {
            guard let output = request.outputPath else { return nil }
            url = request.url
            self.output = output
            journal = request.journal
            self.store = store
            events = request.events
        }

        func deliver(_ verification: inout Verification<ObservedFile, Never>) async throws -> (path: String, sha256: String) {
            guard let agreed = verification.decision.agreed else {
                throw CoordinatorError(.notMet, "the vantages agreed on no file")
            }
            let digest: Digest
            do {
                digest = try Digest(parsing: agreed.sha256)
            } catch {
                throw CoordinatorError(.notMet, "the agreed checksum \(agreed.sha256) is not a digest: \(error)")
            }
            // A cached copy is hashed before it is relied on; one that does not match is removed.
            let size = agreed.size, store = store, output = output, journal = journal
            if try await !BlockingIO.run({ try store.verifiedContains(digest, size: size) }) {
                try await fetchAgreed(url, digest: digest, size: size, from: verification.sources.map(\.vantage), store: store, events: events)
            }
            events?(.writing(path: output, format: "file"))
            do {
                let sha256 = try await BlockingIO.run { try FileOutput.write(blob: digest, size: size, from: store, to: output, journal: journal) }
                return (output, sha256)
            } catch {
                throw CoordinatorError(.notMet, "could not write \(output): \(error)")
            }
        }
    }

    /// Refuses a URL that no vantage could fetch (exit 2), before anything else is asked of the user.
    public static func checkURL(_ url: String) throws {
        guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw CoordinatorError(.badInput, "'\(RegistryClient.redact(url))' is not an http:// or https:// URL; give the full address of the file")
        }
    }

    struct Download: Sendable {
        var digest: Digest
        var size: Int64
        var chain: [String]
        var evidence: TransportEvidence
    }

    /// Downloads and hashes the file, stopping past `maximumSize` bytes; with a store, the bytes
    /// enter it under their own digest (a download stopped or failed is deleted).
    static func download(_ url: String, with client: RegistryClient, keepingIn store: ContentStore?, maximumSize: Int64) async throws -> Download {
        let ingest = try store.map { try FileOutput.ingestPath(in: $0) }
        do {
            let (response, chain) = try await client.fetchURL(url, into: ingest.map { .file(path: $0) } ?? .discard, maximumBodyLength: maximumSize)
            guard response.status == 200 else { throw RegistryClient.downloadStatusError(response, url: url) }
            let digest = try Digest(algorithm: .sha256, encoded: response.bodySHA256)
            if let ingest, let store {
                // fsync and link: off the cooperative pool.
                let sha256 = response.bodySHA256, size = response.bodyLength
                _ = try await BlockingIO.run { try FileOutput.commitDownload(ingest, sha256: sha256, size: size, into: store) }
            }
            return Download(digest: digest, size: response.bodyLength, chain: chain, evidence: response.evidence)
        } catch {
            if let ingest { unlink(ingest) }
            throw error
        }
    }

    /// The checksum `checksumsURL` publishes for `name`, as "sha256:<hex>".
    static func publishedSHA256(_ checksumsURL: String, name: String?, with client: RegistryClient) async throws -> String {
        let (response, _) = try await client.fetchURL(checksumsURL, into: .memory(limit: checksumFileLimit))
        guard response.status == 200 else { throw RegistryClient.downloadStatusError(response, url: checksumsURL) }
        let text = String(decoding: response.body, as: UTF8.self)
        guard let name else {
            throw CoordinatorError(.badInput, "the URL names no file, so its line in \(RegistryClient.redact(checksumsURL)) cannot be found")
        }
        guard let hex = ChecksumFile.sha256(for: name, in: text) else {
            let listed = ChecksumFile.entries(text).prefix(8).map(\.name).joined(separator: ", ")
            throw CoordinatorError(
                .badInput,
                "\(RegistryClient.redact(checksumsURL)) publishes no single SHA-256 for '\(name)'"
                    + (listed.isEmpty ? " (it holds no sha256sum lines)" : " (it lists \(listed))") + "; check --checksums")
        }
        return "sha256:" + hex
    }

    /// The keeping vantage gave no copy (it failed, under a policy that allows that): download
    /// again from agreeing vantages until one delivers the agreed bytes. Each route's bytes are
    /// counted for the progress display as in the first download (`vantageDownloading`).
    static func fetchAgreed(
        _ url: String, digest: Digest, size: Int64, from sources: [VantageClient], store: ContentStore, events: PullEventSink? = nil
    ) async throws {
        var failures: [String] = []
        for source in sources {
            let progress = TransferProgress()
            events?(.vantageDownloading(name: source.spec.name, progress: progress))
            do {
                let fetched = try await TransferProgress.$current.withValue(progress) {
                    try await FetchCoordinator.download(url, with: source.client, keepingIn: store, maximumSize: size)
                }
                if fetched.digest == digest, fetched.size == size, store.contains(digest, size: size) { return }
                failures.append("\(source.spec.name): received \(fetched.digest) (\(fetched.size) bytes)")
                events?(.vantageFailed(name: source.spec.name, message: "its second download brought other bytes (\(fetched.digest))"))
            } catch let error as CancellationError {
                throw error
            } catch {
                failures.append("\(source.spec.name): \(error)")
                events?(.vantageFailed(name: source.spec.name, message: "its second download failed: \(error)"))
            }
        }
        throw CoordinatorError(.notMet, "could not download the agreed file \(digest) from any agreeing vantage: \(failures.joined(separator: "; "))")
    }
}
