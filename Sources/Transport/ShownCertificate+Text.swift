import Crypto
import Foundation

extension ShownCertificate {
    /// A certificate shown on a failed verification, from its DER bytes and the text a tool printed
    /// about it (`openssl s_client` on an SSH vantage's remote): the fingerprint is computed here,
    /// the text kept on one printable line, OpenSSL's dates as ISO 8601 UTC. Pure.
    public init(der: Data, subject: String?, issuer: String?, notBefore: String?, notAfter: String?) {
        self.init(
            sha256: CertificateFingerprints.sha256Hex(der), subject: subject.map(CertificateFingerprints.printable),
            issuer: issuer.map(CertificateFingerprints.printable), notBefore: notBefore.map(CertificateFingerprints.isoDate),
            notAfter: notAfter.map(CertificateFingerprints.isoDate))
    }

    /// The certificate as another host reported it (`3tofu agent`'s reply): kept only with a
    /// well-formed fingerprint, its text on one printable line. Nil otherwise. Pure.
    public func checked() -> ShownCertificate? {
        let hex = sha256.lowercased()
        guard hex.count == 64, hex.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        func clean(_ text: String?) -> String? { text.map(CertificateFingerprints.printable) }
        return ShownCertificate(sha256: hex, subject: clean(subject), issuer: clean(issuer), notBefore: clean(notBefore), notAfter: clean(notAfter))
    }
}

extension ShownCertificate {
    /// Text from another host or a certificate, on one line of printable characters, at most 300 of them.
    public static func printable(_ text: String) -> String { CertificateFingerprints.printable(text) }
}

extension TransportEvidence {
    /// This evidence with the chain a failed verification was shown, or why none was recorded.
    public func withShown(_ shown: [ShownCertificate]?, notRecorded: String?) -> TransportEvidence {
        var evidence = self
        evidence.untrustedCertificates = shown
        evidence.untrustedCertificatesNotRecorded = shown == nil ? notRecorded : nil
        return evidence
    }
}
