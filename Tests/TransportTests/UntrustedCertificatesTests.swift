import Foundation
import Testing
@testable import Transport

/// The pure parts of recording what a route showed when its TLS verification failed: where the
/// second, connect-only handshake goes, and what is kept of libcurl's certificate fields.
@Suite struct UntrustedCertificatesTests {
    @Test(arguments: [
        // Direct: held to the address the failed attempt reached; only the origin, never the path, query or user.
        ("https://user:pw@registry.example:5000/v2/app/manifests/1?token=x", "10.0.0.7", "https://registry.example:5000/", "registry.example:5000:10.0.0.7:5000"),
        ("https://registry.example/v2/", "2001:db8::1", "https://registry.example:443/", "registry.example:443:[2001:db8::1]:443"),
        // A proxy route (no address given): the proxy resolves, nothing is pinned.
        ("https://127.0.0.1:443/v2/", nil, "https://127.0.0.1:443/", nil),
        // Something that is not an address is never put in CONNECT_TO.
        ("https://h:1/", "h:1:evil", "https://h:1/", nil),
    ] as [(String, String?, String, String?)])
    func probeTarget(_ url: String, _ address: String?, _ origin: String, _ connectTo: String?) throws {
        let target = try #require(UntrustedCertificates.ProbeTarget(url: url, address: address))
        #expect(target.origin == origin)
        #expect(target.connectTo == connectTo)
    }

    @Test func onlyHTTPSHasACertificateToRecord() {
        #expect(UntrustedCertificates.ProbeTarget(url: "http://registry.example/v2/", address: "10.0.0.7") == nil)
    }

    @Test func fieldsKeptAreOneLineWithDatesInISO() throws {
        let pem = "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n"
        let shown = try #require(CertificateFingerprints.shownCertificate(fields: [
            "Subject:CN = 127.0.0.1\u{1B}[2J\nverdict: AGREE", "Issuer:CN = mitmproxy, O = mitmproxy", "Start date:Dec  3 19:00:00 2026 GMT",
            "Expire date:2027-12-03 19:00:00 GMT", "Cert:" + pem,
        ]))
        #expect(shown.sha256 == CertificateFingerprints.sha256Hex(Data([0, 1, 2])))
        #expect(shown.subject == "CN = 127.0.0.1[2Jverdict: AGREE")
        #expect(shown.issuer == "CN = mitmproxy, O = mitmproxy")
        #expect(shown.notBefore == "2026-12-03T19:00:00Z")
        #expect(shown.notAfter == "2027-12-03T19:00:00Z")
        #expect(CertificateFingerprints.shownCertificate(fields: ["Subject:CN = x"]) == nil, "no certificate without its bytes")
    }
}
