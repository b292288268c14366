import Foundation
import OCI
import Registry
import Testing
import TestSupport
import Transport

/// One token request per client at a time: requests of one vantage that meet the registry's
/// challenge together wait for the token one of them asked for. Against nginx over TLS (a token
/// service at /token that counts in its access log, and a 401 with a Bearer challenge for any
/// request without the token) and libcurl.
@Suite("token single flight", .serialized)
struct TokenSingleFlightTests {
    @Test func requestsThatMeetTheChallengeTogetherShareOneTokenRequest() async throws {
        let ca = try TestCA()
        let empty = try TemporaryDirectory(prefix: "flight-root")
        let server = try await NginxServer(
            root: empty.path, locations: NginxServer.bearerGate(token: "flight-token", authorized: "default_type application/octet-stream; return 200 'hello';"), tls: ca)
        defer { server.stop() }
        let transport = try CurlTransport(configuration: TransportConfiguration(extraCACertificatesPath: ca.caCertPath))
        let client = RegistryClient(transport: transport)
        let hello = Data("hello".utf8)
        let descriptor = Descriptor(mediaType: "application/octet-stream", digest: try Digest(parsing: "sha256:" + Shell.sha256Hex(hello)), size: Int64(hello.count))
        let registry = "127.0.0.1:\(server.port)"
        let bodies = try await withThrowingTaskGroup(of: Data.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await client.fetchSmallBlob(registry: registry, repository: "flight/app", descriptor: descriptor).bytes
                }
            }
            return try await group.reduce(into: [Data]()) { $0.append($1) }
        }
        #expect(bodies == Array(repeating: hello, count: 6))
        let lines = server.accessLog().split(separator: "\n").map(String.init)
        let tokenRequests = lines.filter { $0.contains("\"GET /token") }
        print("TokenSingleFlightTests: \(lines.count) requests, \(tokenRequests.count) for a token, \(lines.filter { $0.contains("\" 401 ") }.count) challenged")
        #expect(tokenRequests.count == 1, "one token request for the six: \(lines)")
        #expect(lines.filter { $0.contains("/v2/") && $0.contains("\" 200 ") }.count == 6, "\(lines)")
    }
}
