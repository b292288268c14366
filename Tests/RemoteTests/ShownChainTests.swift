import Crypto
import Foundation
@testable import Remote
import Testing
import Transport

/// What an SSH vantage records after its remote failed to verify a certificate: where the remote
/// `openssl s_client` connects (only a plain name or address reaches its arguments), how its
/// chain is read back, and what `3tofu agent` sends with its error. No network.
@Suite struct ShownChainTests {
    @Test(arguments: [
        ("https://registry.example/v2/", "registry.example:443,registry.example"),
        ("https://Registry.Example:5000/v2/a?x=1", "registry.example:5000,registry.example"),
        ("https://user:pw@host.example:8443/", "host.example:8443,host.example"),
        ("https://127.0.0.1:5000/v2/", "127.0.0.1:5000,-"),
        ("https://[::1]:5000/v2/", "[::1]:5000,-"),
    ])
    func theTargetIsHostPortAndName(url: String, target: String) {
        #expect(ShownChain.target(url: url) == target)
    }

    /// Nothing to connect to, or nothing that could be read as another argument.
    @Test(arguments: ["http://registry.example/v2/", "ftp://x/", "https://-oProxyCommand=x/", "https://a%20b/", "not a url"])
    func noTargetForAnythingElse(url: String) {
        #expect(ShownChain.target(url: url) == nil)
    }

    static let der = Data((0..<300).map { UInt8($0 % 251) })
    static var pem: [String] {
        let base64 = der.base64EncodedString()
        var lines = ["-----BEGIN CERTIFICATE-----"]
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        return lines + ["-----END CERTIFICATE-----"]
    }

    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    /// OpenSSL 3's `-showcerts` chain: subject, issuer, validity, PEM, for each certificate.
    @Test func theChainIsReadWithSubjectIssuerAndValidity() {
        let lines = ["Certificate chain", " 0 s:CN = registry.example, O = Evil", "   i:CN = Rogue CA",
                     "   a:PKEY: id-ecPublicKey, 256 (bit); sigalg: ecdsa-with-SHA256",
                     "   v:NotBefore: Dec  3 22:55:32 2026 GMT; NotAfter: Dec  5 22:55:32 2026 GMT"]
            + Self.pem + [" 1 s:CN = Rogue CA", "   i:CN = Rogue CA"] + Self.pem + ["---"]
        let chain = ShownChain.certificates(in: lines)
        #expect(chain.count == 2)
        #expect(chain[0].sha256 == Self.hex(Self.der))
        #expect(chain[0].subject == "CN = registry.example, O = Evil")
        #expect(chain[0].issuer == "CN = Rogue CA")
        #expect(chain[0].notBefore == "2026-12-03T22:55:32Z" && chain[0].notAfter == "2026-12-05T22:55:32Z")
        #expect(chain[1].subject == "CN = Rogue CA" && chain[1].notAfter == nil)
    }

    /// The script's stderr after curl 60: the chain between its markers becomes the evidence; a
    /// remote without openssl says so; neither shows up after a success.
    @Test func theTrailerCarriesTheShownChainOrWhyThereIsNone() {
        let shown = (["3tofu-w remote_ip 10.0.0.9", "curl: (60) SSL certificate problem: unable to get local issuer certificate",
                      "3tofu-shown-begin", "Certificate chain", " 0 s:CN = x", "   i:CN = y"] + Self.pem + ["---", "3tofu-shown-end", "3tofu-exit 60"])
            .joined(separator: "\n") + "\n"
        let trailer = RemoteCurlReply.Trailer.parse(Data(shown.utf8))
        #expect(trailer.curlExit == 60)
        let evidence = trailer.evidence(headers: HTTPHeaders())
        #expect(evidence.untrustedCertificates?.map(\.sha256) == [Self.hex(Self.der)])
        #expect(evidence.untrustedCertificatesNotRecorded == nil)
        #expect(evidence.remoteIP == "10.0.0.9")

        let none = RemoteCurlReply.Trailer.parse(Data("3tofu-shown-none openssl is not installed (or not on PATH) on the remote host\n3tofu-exit 60\n".utf8))
        #expect(none.evidence(headers: HTTPHeaders()).untrustedCertificates == nil)
        #expect(none.evidence(headers: HTTPHeaders()).untrustedCertificatesNotRecorded?.contains("openssl is not installed") == true)

        let empty = RemoteCurlReply.Trailer.parse(Data("3tofu-shown-begin\n\n3tofu-shown-end\n3tofu-exit 60\n".utf8))
        #expect(empty.evidence(headers: HTTPHeaders()).untrustedCertificates == nil)
        #expect(empty.evidence(headers: HTTPHeaders()).untrustedCertificatesNotRecorded != nil)

        let ok = RemoteCurlReply.Trailer.parse(Data("3tofu-exit 0\n".utf8))
        #expect(ok.evidence(headers: HTTPHeaders()).untrustedCertificates == nil && ok.evidence(headers: HTTPHeaders()).untrustedCertificatesNotRecorded == nil)
    }

    /// The script runs openssl only after curl's 60, with the target from the request line.
    @Test func theScriptRecordsOnlyAfterAFailedVerification() {
        let script = RemoteCurlScript.script
        #expect(script.contains("read -r v mode ca max n p;"))
        #expect(script.contains("case \"$rc $p\" in \"60 \"|\"60 -\") ;; \"60 \"*)"))
        #expect(script.contains("-showcerts"))
        #expect(script.contains("</dev/null"), "s_client's stdin is empty: it sends nothing after the handshake")
    }

    /// `3tofu agent`'s error head carries what it saw; this side keeps only well-formed
    /// fingerprints, on one printable line, without the URL's user information.
    @Test func theAgentsErrorCarriesTheShownChain() throws {
        var seen = TransportEvidence(remoteIP: "10.0.0.9", effectiveURL: "https://u:p@r.example/v2/")
        seen.untrustedCertificates = [
            ShownCertificate(sha256: String(repeating: "ab", count: 32), subject: "CN = evil\n\u{1B}[2Jverdict: AGREE", issuer: "CN = Rogue"),
            ShownCertificate(sha256: "not-a-fingerprint"),
        ]
        let line = try AgentProtocol.line(AgentProtocol.ReplyHead(error: "tls", detail: "verification failed", evidence: seen))
        let head = try AgentProtocol.decodeReplyHead(line.dropLast())
        let kept = SSHAgentTransport.failureEvidence(try #require(head.evidence))
        #expect(kept.untrustedCertificates?.count == 1)
        #expect(kept.untrustedCertificates?.first?.sha256 == String(repeating: "ab", count: 32))
        let subject = try #require(kept.untrustedCertificates?.first?.subject)
        #expect(!subject.contains("\n") && !subject.contains("\u{1B}"), "\(subject.debugDescription)")
        #expect(kept.effectiveURL == "https://r.example/v2/")
    }
}
