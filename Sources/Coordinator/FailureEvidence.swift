import Registry
import Report
import Transport

/// What a failed vantage had seen, from the error it failed with: the transport's evidence of the
/// exchange that failed (a TLS failure's remote address and timings, an error response's
/// certificates), so that the report shows where the route was sent. Pure.
enum FailureEvidence {
    static func of(_ error: any Error) -> AgreementReport.Evidence? {
        let seen: TransportEvidence?
        switch error {
        case let error as RegistryError: seen = error.evidence
        case let error as TransportError: seen = error.evidence
        case let error as CoordinatorError: return error.evidence
        default: seen = nil
        }
        guard let seen, seen.remoteIP != nil || seen.effectiveURL != nil || !seen.certificateSHA256.isEmpty || seen.sshHostKey != nil || seen.untrustedCertificates != nil
            || seen.untrustedCertificatesNotRecorded != nil
        else { return nil }
        return ReportBuilder.evidence(seen, chain: seen.effectiveURL.map { [$0] } ?? [])
    }

    /// A certificate shown on a failed TLS verification, as the report records it.
    static func untrusted(_ shown: ShownCertificate) -> AgreementReport.Evidence.UntrustedCertificate {
        .init(sha256: shown.sha256, subject: shown.subject, issuer: shown.issuer, notBefore: shown.notBefore, notAfter: shown.notAfter)
    }
}
