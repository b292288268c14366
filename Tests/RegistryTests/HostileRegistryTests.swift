import Foundation
import OCI
import Registry
import Testing
import TestSupport
import Transport

private let quick = RetryPolicy(maximumAttempts: 4, baseDelay: 0.01, maximumDelay: 0.02, maximumRetryAfter: 2)

/// A transport whose blob answers can break off part way, as a connection that drops does:
/// `cut(request)` returns how many body bytes to deliver before failing (nil: all of them).
private final class BreakingTransport: HTTPTransport, @unchecked Sendable {
    let route = "breaking"
    let blob: Data
    private let lock = NSLock()
    private var cuts: [Int?]
    private(set) var ranges: [Int64?] = []

    init(blob: Data, cuts: [Int?]) {
        self.blob = blob
        self.cuts = cuts
    }

    func perform(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse {
        let cut: Int? = lock.withLock {
            ranges.append(request.rangeStart)
            return cuts.isEmpty ? nil : cuts.removeFirst()
        }
        guard case .file(let path, _) = destination else { throw TransportError(kind: .other, url: request.url, detail: "file expected") }
        let start = Int(request.rangeStart ?? 0)
        let body = blob.suffix(from: start)
        let delivered = cut.map { body.prefix($0) } ?? body
        // As the curl transport does: 206 appends to the file, 200 replaces it.
        if request.rangeStart == nil { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: delivered)
        try handle.close()
        if cut != nil {
            throw TransportError(kind: .connect, url: request.url, detail: "the connection broke after \(delivered.count) bytes")
        }
        var headers = HTTPHeaders()
        if start > 0 { headers.append(name: "Content-Range", value: "bytes \(start)-\(blob.count - 1)/\(blob.count)") }
        return HTTPResponse(
            status: start > 0 ? 206 : 200, headers: headers, body: Data(), bodySHA256: ScriptedTransport.sha256Hex(Data(delivered)),
            bodyLength: Int64(delivered.count), evidence: TransportEvidence(effectiveURL: request.url))
    }
}

@Suite struct HostileRegistryTests {
    static func scratch() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Regression: a resumed download that broke again was retried with its first range, and
    /// the bytes after that offset were appended a second time.
    @Test func aResumeThatBreaksAgainResumesFromWhereTheFileNowEnds() async throws {
        let blob = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) })
        let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try Digest(parsing: "sha256:" + ScriptedTransport.sha256Hex(blob)), size: Int64(blob.count))
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let partial = directory + "/blob.partial"
        try blob.prefix(10_000).write(to: URL(fileURLWithPath: partial))
        let transport = BreakingTransport(blob: blob, cuts: [30_000, 20_000, 10_000])
        let download = try await RegistryClient(transport: transport, retry: RetryPolicy(maximumAttempts: 6, baseDelay: 0.01, maximumDelay: 0.02))
            .downloadBlob(registry: "r.test", repository: "a/b", descriptor: descriptor, to: partial)
        #expect(transport.ranges == [10_000, 40_000, 60_000, 70_000])
        #expect(download.length == Int64(blob.count))
        #expect(try Data(contentsOf: URL(fileURLWithPath: partial)) == blob)
    }

    /// A blob body longer than its descriptor's size: every way a blob is fetched asks for that
    /// size as the limit (a resume: what is left), and the longer body is wrong bytes
    /// (digestMismatch, tampering); a download's partial file is deleted, so no other route
    /// resumes on it.
    @Test func aBlobLongerThanItsSizeIsWrongBytesAndItsPartialIsDeleted() async throws {
        let blob = Data((0..<10_000).map { UInt8($0 % 251) })
        let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try Digest(parsing: "sha256:" + ScriptedTransport.sha256Hex(blob)), size: 6_000)
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let partial = directory + "/blob.partial"
        try blob.prefix(2_000).write(to: URL(fileURLWithPath: partial))
        let transport = ScriptedTransport.servingRanges(of: blob)
        let client = RegistryClient(transport: transport, retry: quick)
        let isWrongBytes: @Sendable (any Error) -> Bool = { error in
            guard let error = error as? RegistryError else { return false }
            return error.kind == .digestMismatch && error.message.contains("Its descriptor says 6000 bytes")
        }
        await #expect(performing: {
            _ = try await client.downloadBlob(registry: "r.test", repository: "a/b", descriptor: descriptor, to: partial)
        }, throws: isWrongBytes)
        #expect(transport.requests.first?.rangeStart == 2_000 && transport.requests.first?.maximumBodyLength == 6_000)
        #expect(!FileManager.default.fileExists(atPath: partial))
        await #expect(performing: {
            _ = try await client.hashBlob(registry: "r.test", repository: "a/b", descriptor: descriptor)
        }, throws: isWrongBytes)
        await #expect(performing: {
            _ = try await client.fetchSmallBlob(registry: "r.test", repository: "a/b", descriptor: descriptor)
        }, throws: isWrongBytes)
        #expect(transport.requests.allSatisfy { $0.maximumBodyLength == 6_000 })
    }

    @Test func nestedIndexIsRefused() async throws {
        // An index whose platform entry is itself an index: the closest a registry can come to a
        // cycle (an index cannot contain its own digest; a pair cannot name each other either).
        let inner = Data(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.utf8)
        let innerDigest = "sha256:" + ScriptedTransport.sha256Hex(inner)
        let outer = Data(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(innerDigest)","size":\#(inner.count),"platform":{"os":"linux","architecture":"amd64"}}]}"#.utf8)
        let transport = ScriptedTransport { request in
            request.url.hasSuffix(innerDigest) ? .init(status: 200, body: inner) : .init(status: 200, body: outer)
        }
        await #expect {
            _ = try await RegistryClient(transport: transport, retry: quick).resolve(try ImageReference(parsing: "r.test/a/b:1"), platform: try Platform(parsing: "linux/amd64"))
        } throws: { error in
            (error as? RegistryError)?.message.contains("nested indexes") == true
        }
        #expect(transport.requests.count == 2)
    }

    struct Challenge: CustomTestStringConvertible, Sendable {
        var header: String
        var kind: RegistryError.Kind
        var testDescription: String { String(header.prefix(60)) }
    }

    @Test(arguments: [
        Challenge(header: "Bearer realm=\"unterminated", kind: .badResponse),
        Challenge(header: "Bearer service=\"x\"", kind: .badResponse),
        Challenge(header: "Bearer realm=\"file:///etc/passwd\"", kind: .badResponse),
        Challenge(header: "Bearer realm=\"ftp://auth.test/token\"", kind: .insecureRealm),
        Challenge(header: "Bearer realm=\"http://auth.test/token\"", kind: .insecureRealm),
        Challenge(header: "Bearer realm=\"https://\"", kind: .badResponse),
        Challenge(header: "Negotiate", kind: .unauthorized),
        Challenge(header: "Bearer realm=\"" + String(repeating: "a", count: 2_000_000) + "\"", kind: .badResponse),
        Challenge(header: String(repeating: "Bearer realm=\"https://a\", ", count: 50_000), kind: .badResponse),
    ])
    func malformedOrHostileChallengesAreRefused(_ challenge: Challenge) async throws {
        let transport = ScriptedTransport { request in
            request.url.hasPrefix("https://r.test/") ? .init(status: 401, headers: ["WWW-Authenticate": challenge.header]) : .init(status: 500)
        }
        let client = RegistryClient(transport: transport, retry: quick)
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        } throws: { error in
            guard let error = error as? RegistryError else { return false }
            return error.kind == challenge.kind && error.message.count < 2_000
        }
    }

    struct TokenCase: CustomTestStringConvertible, Sendable {
        var name: String
        var body: Data
        var kind: RegistryError.Kind?
        var testDescription: String { name }
    }

    @Test(arguments: [
        TokenCase(name: "not JSON", body: Data("<html>".utf8), kind: .badResponse),
        TokenCase(name: "no token", body: Data(#"{"expires_in":300}"#.utf8), kind: .badResponse),
        TokenCase(name: "empty token", body: Data(#"{"token":""}"#.utf8), kind: .badResponse),
        TokenCase(name: "token with CR LF (header injection)", body: Data(#"{"token":"abc\r\nX-Evil: 1"}"#.utf8), kind: .badResponse),
        TokenCase(name: "token with a control character", body: Data(#"{"token":"abc\u0001def"}"#.utf8), kind: .badResponse),
        TokenCase(name: "token of 100 KiB", body: Data(#"{"token":"\#(String(repeating: "t", count: 100_000))"}"#.utf8), kind: .badResponse),
        TokenCase(name: "body over 1 MiB", body: Data(count: RegistryClient.tokenSizeLimit + 1), kind: .tooLarge),
        TokenCase(name: "token a number", body: Data(#"{"token":12}"#.utf8), kind: .badResponse),
        TokenCase(name: "enormous expires_in", body: Data(#"{"token":"ok","expires_in":9223372036854775807}"#.utf8), kind: nil),
        TokenCase(name: "negative expires_in", body: Data(#"{"token":"ok","expires_in":-5}"#.utf8), kind: nil),
        TokenCase(name: "expires_in beyond Int64", body: Data(#"{"token":"ok","expires_in":1e300}"#.utf8), kind: .badResponse),
    ])
    func hostileTokenResponses(_ token: TokenCase) async throws {
        let manifest = Data(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:\#(String(repeating: "a", count: 64))","size":2},"layers":[]}"#.utf8)
        let transport = ScriptedTransport { request in
            if request.url.hasPrefix("https://auth.test/") { return .init(status: 200, body: token.body) }
            if request.headers.contains(where: { $0.name == "Authorization" && $0.value == "Bearer ok" }) { return .init(status: 200, body: manifest) }
            return .init(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="https://auth.test/token",service="r""#])
        }
        let client = RegistryClient(transport: transport, retry: quick)
        do {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
            #expect(token.kind == nil, "accepted \(token.name)")
        } catch let error as RegistryError {
            #expect(error.kind == token.kind, "\(token.name): \(error.message)")
            #expect(error.message.count < 2_000)
        }
    }
}
