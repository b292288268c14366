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
        guard let scheme = URL(string: request.url)?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw CoordinatorError(.badInput, "'\(RegistryClient.redact(request.url))' is not an http:// or https:// URL; give the full address of the file")
        }
        let clients = try Coordinator.makeClients(
            request.vantages, caCertificatePath: request.caCertificatePath, insecureRegistries: [], credentials: .none, timeout: request.vantageTimeout)
        let store = ContentStore(root: request.storeRoot)
        let keeper = request.outputPath == nil ? nil : (clients.first { $0.spec.kind == .local } ?? clients.first)?.spec.name
        let name = ChecksumFile.fileName(of: request.url)

        let runs = await VantageFanOut.run(clients, timeout: request.vantageTimeout, events: request.events) { vantage -> VantageAnswer<ObservedFile> in
            let download: Download
            do {
                download = try await Self.download(
                    request.url, with: vantage.client, keepingIn: vantage.spec.name == keeper ? store : nil, maximumSize: request.maximumSize)
            } catch let error as RegistryError where error.kind == .tooLarge {
                throw RegistryError(.tooLarge, "\(error.message); if the file really is larger, raise --max-size (now \(request.maximumSize) bytes)")
            }
            var published: String?
            if let checksumsURL = request.checksumsURL {
                published = try await Self.publishedSHA256(checksumsURL, name: name, with: vantage.client)
            }
            let file = ObservedFile(
                url: RegistryClient.redact(request.url), finalURL: RegistryClient.redact(download.chain.last ?? request.url),
                sha256: download.digest.string, size: download.size, publishedSHA256: published)
            return VantageAnswer(subject: file, evidence: ReportBuilder.evidence(download.evidence, chain: download.chain), inconsistency: file.inconsistency)
        }
        let decision = Agreement.decide(runs.map(\.observation), policy: request.policy, usedInsecureRegistry: request.usesPlainHTTP)
        var result = FetchResult(request: request, vantages: runs, decision: decision, written: nil)
        guard decision.verdict == .agree, let agreed = decision.agreed, let output = request.outputPath else { return result }

        let digest: Digest
        do {
            digest = try Digest(parsing: agreed.sha256)
        } catch {
            throw CoordinatorError(.notMet, "the agreed checksum \(agreed.sha256) is not a digest: \(error)")
        }
        // A cached copy is hashed before it is relied on; one that does not match is removed.
        let size = agreed.size
        if try await !BlockingIO.run({ try store.verifiedContains(digest, size: size) }) {
            try await fetchAgreed(request.url, digest: digest, size: agreed.size, from: VantageFanOut.preferredFirst(runs, clients: clients), store: store)
        }
        let journal = request.journal
        request.events?(.writing(path: output, format: "file"))
        do {
            let sha256 = try await BlockingIO.run { try FileOutput.write(blob: digest, size: size, from: store, to: output, journal: journal) }
            result.written = (output, sha256)
        } catch {
            throw CoordinatorError(.notMet, "could not write \(output): \(error)")
        }
        return result
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
    /// again from agreeing vantages until one delivers the agreed bytes.
    static func fetchAgreed(_ url: String, digest: Digest, size: Int64, from sources: [Coordinator.VantageClient], store: ContentStore) async throws {
        var failures: [String] = []
        for source in sources {
            do {
                let download = try await download(url, with: source.client, keepingIn: store, maximumSize: size)
                if download.digest == digest, download.size == size, store.contains(digest, size: size) { return }
                failures.append("\(source.spec.name): received \(download.digest) (\(download.size) bytes)")
            } catch {
                failures.append("\(source.spec.name): \(error)")
            }
        }
        throw CoordinatorError(.notMet, "could not download the agreed file \(digest) from any agreeing vantage: \(failures.joined(separator: "; "))")
    }
}
