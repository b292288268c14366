import Foundation
import Testing
@testable import Transport

@Suite("CurlTransport TLS trust and certificate evidence")
struct CurlTransportTLSTests {
    @Test("a server signed by an unknown CA fails with tls and points at --ca-cert")
    func unknownCA() async throws {
        let ca = try LocalCA()
        defer { ca.remove() }
        try await FixtureHTTPServer.with(certificate: ca.chain, key: ca.leafKey) { server in
            let transport = try CurlTransport(configuration: TransportConfiguration())
            let error = await #expect(throws: TransportError.self) {
                try await transport.perform(HTTPRequest(url: server.url("/bytes/10")), into: .discard)
            }
            #expect(error?.kind == .tls)
            #expect(error?.detail.contains("--ca-cert") == true)
        }
    }

    @Test("the extra CA is trusted; the certificate chain is reported leaf first")
    func extraCA() async throws {
        let ca = try LocalCA()
        defer { ca.remove() }
        let leaf = try LocalCA.fingerprint(of: ca.leafCertificate)
        let root = try LocalCA.fingerprint(of: ca.caCertificate)
        try await FixtureHTTPServer.with(certificate: ca.chain, key: ca.leafKey) { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(extraCACertificatesPath: ca.caCertificate))
            let first = try await transport.perform(HTTPRequest(url: server.url("/bytes/10")), into: .memory(limit: 100))
            #expect(first.status == 200)
            #expect(first.body == FixtureHTTPServer.pattern(10))
            #expect(first.evidence.certificateSHA256 == [leaf, root])
            #expect(first.evidence.httpVersion == "1.1")
            #expect(first.evidence.timings.tlsHandshake > 0)

            // The second request reuses the connection (no handshake) and still reports the chain.
            let second = try await transport.perform(HTTPRequest(url: server.url("/bytes/20")), into: .memory(limit: 100))
            #expect(second.evidence.certificateSHA256 == [leaf, root])
        }
    }

    @Test("the CA blob is the system bundle followed by the extra CAs")
    func bundleKeepsSystemCAs() throws {
        let ca = try LocalCA()
        defer { ca.remove() }
        let system = try Data(contentsOf: URL(fileURLWithPath: "/etc/ssl/certs/ca-certificates.crt"))
        let extra = try Data(contentsOf: URL(fileURLWithPath: ca.caCertificate))
        let bundle = try CABundle.load(extraPath: ca.caCertificate)
        #expect(bundle.prefix(system.count) == system)
        #expect(bundle.range(of: extra) != nil)
    }

    @Test("resolve entries pin a name to an address, and the name is checked against the certificate")
    func resolveEntry() async throws {
        let ca = try LocalCA(extraNames: ["registry.test"])
        defer { ca.remove() }
        try await FixtureHTTPServer.with(certificate: ca.chain, key: ca.leafKey) { server in
            let transport = try CurlTransport(configuration: TransportConfiguration(
                extraCACertificatesPath: ca.caCertificate,
                resolve: ["registry.test:\(server.port):127.0.0.1"]))
            let response = try await transport.perform(HTTPRequest(url: server.url("/bytes/3", host: "registry.test")), into: .memory(limit: 100))
            #expect(response.status == 200)
            #expect(response.evidence.remoteIP == "127.0.0.1")
            #expect(response.evidence.effectiveURL == server.url("/bytes/3", host: "registry.test"))
        }
    }

    @Test("an unreadable or non-PEM CA file is refused when the transport is made")
    func badCAFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let notPEM = folder.path("not.pem")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notPEM))
        #expect(throws: TransportError.self) {
            try CurlTransport(configuration: TransportConfiguration(extraCACertificatesPath: notPEM))
        }
        let missing = folder.path("missing.pem")
        let error = #expect(throws: TransportError.self) {
            try CurlTransport(configuration: TransportConfiguration(extraCACertificatesPath: missing))
        }
        #expect(error?.message.contains(missing) == true)
    }
}
