import Foundation
import OCI
import Registry
import Testing
import TestSupport
import Transport

private let manifest = Data("""
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
     "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\(String(repeating: "a", count: 64))","size":2},
     "layers":[]}
    """.utf8)
private let manifestDigest = "sha256:" + ScriptedTransport.sha256Hex(manifest)
private let quick = RetryPolicy(maximumAttempts: 4, baseDelay: 0.01, maximumDelay: 0.02, maximumRetryAfter: 2)

@Suite struct RegistryClientTests {
    func reference(_ text: String = "r.test/a/b:1") throws -> ImageReference { try ImageReference(parsing: text) }

    @Test func retriesServerErrorsThenSucceeds() async throws {
        var failures = 2
        let transport = ScriptedTransport { _ in
            if failures > 0 {
                failures -= 1
                return .init(status: 503)
            }
            return .init(status: 200, headers: ["Content-Type": MediaType.ociManifest], body: manifest)
        }
        let client = RegistryClient(transport: transport, retry: quick)
        let fetched = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        #expect(fetched.digest.string == manifestDigest)
        #expect(transport.requests.count == 3)
    }

    @Test func honoursRetryAfterOn429() async throws {
        var first = true
        let transport = ScriptedTransport { _ in
            defer { first = false }
            return first ? .init(status: 429, headers: ["Retry-After": "1"]) : .init(status: 200, body: manifest)
        }
        let client = RegistryClient(transport: transport, retry: quick)
        let start = Date()
        _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        #expect(Date().timeIntervalSince(start) >= 0.9)
    }

    @Test func givesUpWithAClearMessageWhenRateLimitedTooLong() async throws {
        let transport = ScriptedTransport { _ in .init(status: 429, headers: ["Retry-After": "3600"]) }
        let client = RegistryClient(transport: transport, retry: quick)
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        } throws: { error in
            (error as? RegistryError)?.message.contains("rate-limiting") == true
        }
        #expect(transport.requests.count == 1)
    }

    @Test func anonymousBearerTokenFlowAndRefreshOn401() async throws {
        var tokensIssued = 0
        let transport = ScriptedTransport { request in
            if request.url.hasPrefix("https://auth.test/token") {
                tokensIssued += 1
                #expect(request.url.contains("scope=repository:a/b:pull"))
                #expect(request.url.contains("service=registry.test"))
                return .init(status: 200, body: Data(#"{"token":"tok\#(tokensIssued)","expires_in":300}"#.utf8))
            }
            let auth = request.headers.first { $0.name == "Authorization" }?.value
            // The second token is the only one accepted after the first "expires".
            guard auth == "Bearer tok\(tokensIssued)", !(auth == "Bearer tok1" && request.url.hasSuffix("/2")) else {
                return .init(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="https://auth.test/token",service="registry.test""#])
            }
            return .init(status: 200, body: manifest)
        }
        let client = RegistryClient(transport: transport, retry: quick)
        _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        #expect(tokensIssued == 1)
        _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "2", expected: nil)
        #expect(tokensIssued == 2)
        // Tokens never travel to the token service itself.
        #expect(transport.requests.filter { $0.url.contains("auth.test") }.allSatisfy { request in
            !request.headers.contains { $0.name == "Authorization" && $0.value.hasPrefix("Bearer") }
        })
    }

    @Test func refusesAPlainHTTPRealm() async throws {
        let transport = ScriptedTransport { request in
            .init(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://evil.test/token",service="x""#])
        }
        let client = RegistryClient(transport: transport, credentials: RegistryCredentials(["r.test": RegistryCredential(username: "u", password: "secret")]), retry: quick)
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        } throws: { error in
            (error as? RegistryError)?.kind == .insecureRealm
        }
        #expect(!transport.requests.contains { $0.url.contains("evil.test") })
    }

    @Test func dockerContentDigestMustMatchTheBody() async throws {
        let transport = ScriptedTransport { _ in
            .init(status: 200, headers: ["Docker-Content-Digest": "sha256:" + String(repeating: "0", count: 64)], body: manifest)
        }
        let client = RegistryClient(transport: transport, retry: quick)
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        } throws: { error in
            (error as? RegistryError)?.kind == .digestMismatch
        }
    }

    @Test func byDigestTheBodyMustHashToIt() async throws {
        let transport = ScriptedTransport { _ in .init(status: 200, body: manifest) }
        let client = RegistryClient(transport: transport, retry: quick)
        let wrong = try Digest(parsing: "sha256:" + String(repeating: "1", count: 64))
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: wrong.string, expected: wrong)
        } throws: { error in
            (error as? RegistryError)?.kind == .digestMismatch
        }
    }

    @Test func redirectToAnotherHostDropsAuthorizationAndLoopsAreRefused() async throws {
        let transport = ScriptedTransport { request in
            if request.url.hasPrefix("https://cdn.test/") { return .init(status: 200, body: manifest) }
            guard request.headers.contains(where: { $0.name == "Authorization" }) else {
                return .init(status: 401, headers: ["WWW-Authenticate": #"Basic realm="r""#])
            }
            if request.url.hasSuffix("/loop") { return .init(status: 302, headers: ["Location": "https://r.test/v2/a/b/manifests/loop"]) }
            return .init(status: 307, headers: ["Location": "https://cdn.test/blob?sig=abc"])
        }
        let client = RegistryClient(transport: transport, credentials: RegistryCredentials(["r.test": RegistryCredential(username: "u", password: "p")]), retry: quick)
        _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        #expect(transport.requests.contains { request in request.url.hasPrefix("https://r.test/") && request.headers.contains { $0.name == "Authorization" } })
        let cdnRequests = transport.requests.filter { $0.url.hasPrefix("https://cdn.test/") }
        #expect(!cdnRequests.isEmpty)
        #expect(cdnRequests.allSatisfy { request in !request.headers.contains { $0.name == "Authorization" } })
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "loop", expected: nil)
        } throws: { error in
            (error as? RegistryError)?.kind == .redirect
        }
    }

    /// The redirect target answers 401 naming a token realm of its own: neither the login nor a
    /// token request goes there, first with a fresh login and then with the cached one.
    @Test func aChallengeFromARedirectTargetIsNotAnswered() async throws {
        let transport = ScriptedTransport { request in
            if request.url.hasPrefix("https://cdn.test/") {
                return .init(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="https://cdn.test/token",service="cdn""#])
            }
            guard request.headers.contains(where: { $0.name == "Authorization" }) else {
                return .init(status: 401, headers: ["WWW-Authenticate": #"Basic realm="r""#])
            }
            return .init(status: 307, headers: ["Location": "https://cdn.test/blob?sig=abc"])
        }
        let client = RegistryClient(transport: transport, credentials: RegistryCredentials(["r.test": RegistryCredential(username: "u", password: "p")]), retry: quick)
        for _ in 0..<2 {
            await #expect {
                _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
            } throws: { error in
                guard let error = error as? RegistryError else { return false }
                return error.kind == .insecureRealm && error.message.contains("https://cdn.test") && !error.message.contains("sig=abc")
            }
        }
        #expect(transport.requests.filter { $0.url.hasPrefix("https://r.test/") && $0.headers.contains { $0.name == "Authorization" } }.count == 2)
        #expect(!transport.requests.contains { $0.url.hasPrefix("https://cdn.test/token") })
        #expect(transport.requests.filter { $0.url.hasPrefix("https://cdn.test/") }.allSatisfy { request in !request.headers.contains { $0.name == "Authorization" } })
    }

    @Test func resumeWithRangeAndFallBackWhenTheServerIgnoresIt() async throws {
        let blob = Data((0..<10_000).map { UInt8($0 % 251) })
        let descriptor = Descriptor(mediaType: MediaType.ociLayerGzip, digest: try Digest(parsing: "sha256:" + ScriptedTransport.sha256Hex(blob)), size: Int64(blob.count))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("range-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // A server that honours Range.
        let partial = directory + "/a.partial"
        try blob.prefix(4_000).write(to: URL(fileURLWithPath: partial))
        let honouring = ScriptedTransport.servingRanges(of: blob)
        let resumed = try await RegistryClient(transport: honouring, retry: quick).downloadBlob(registry: "r.test", repository: "a/b", descriptor: descriptor, to: partial)
        #expect(resumed.resumed)
        #expect(honouring.requests.first?.rangeStart == 4_000)
        #expect(try Data(contentsOf: URL(fileURLWithPath: partial)) == blob)

        // A server that ignores Range and sends everything again.
        let other = directory + "/b.partial"
        try blob.prefix(4_000).write(to: URL(fileURLWithPath: other))
        let ignoring = ScriptedTransport { _ in .init(status: 200, body: blob) }
        let restarted = try await RegistryClient(transport: ignoring, retry: quick).downloadBlob(registry: "r.test", repository: "a/b", descriptor: descriptor, to: other)
        #expect(restarted.sha256OfWholeFile == descriptor.digest.encoded)
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == blob)
    }

    @Test func manifestOverTheCapIsRefused() async throws {
        let transport = ScriptedTransport { _ in .init(status: 200, body: Data(count: RegistryClient.manifestSizeLimit + 1)) }
        let client = RegistryClient(transport: transport, retry: quick)
        await #expect {
            _ = try await client.fetchManifest(registry: "r.test", repository: "a/b", reference: "1", expected: nil)
        } throws: { error in
            (error as? RegistryError)?.kind == .tooLarge
        }
    }
}
