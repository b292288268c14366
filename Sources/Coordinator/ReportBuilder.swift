import Agreement
import Foundation
import Registry
import Report
import Transport

/// Turns a run into its agreement report. Only what a vantage saw and how goes in: URLs lose
/// their query strings, and no header value that could carry a credential is ever copied.
public enum ReportBuilder {
    public static func make(_ result: PullResult, toolVersion: String, createdAt: Date = Date()) -> AgreementReport {
        let request = result.request
        let vantages = result.vantages.map { run -> AgreementReport.VantageEntry in
            let observation = Coordinator.observation(run)
            return AgreementReport.VantageEntry(
                name: run.spec.name, kind: run.spec.kind.rawValue, route: run.route,
                status: observation.isTampered ? .tampered : (run.resolution == nil ? .error : .ok),
                error: run.resolution == nil ? (run.failure?.message ?? "no answer") : nil, observed: observation.observed.map(ObservedSubject.image),
                evidence: run.resolution.map { evidence($0.top) }, seconds: (run.seconds * 1000).rounded() / 1000)
        }
        let artifact = result.written.map {
            AgreementReport.Artifact(
                path: $0.path, format: $0.format.rawValue, sha256: $0.sha256, manifestDigest: $0.manifestDigestWritten.description,
                convertedFrom: $0.convertedFrom?.description)
        }
        return AgreementReport(
            tool: .init(version: toolVersion), createdAt: ReportFile.timestamp(createdAt),
            subject: .init(kind: .image, reference: request.reference.description, platform: request.platform.description),
            policy: .init(request.policy, usedInsecureRegistry: request.usesInsecureRegistry),
            verdict: result.decision.verdict, reason: result.decision.reason, agreed: result.decision.agreed.map(ObservedSubject.image),
            vantages: vantages, comparisons: result.decision.comparisons, artifact: artifact)
    }

    static func evidence(_ fetched: FetchedManifest) -> AgreementReport.Evidence {
        let seen = fetched.evidence
        return AgreementReport.Evidence(
            remoteIP: seen.remoteIP, effectiveURL: seen.effectiveURL.map(RegistryClient.redact),
            urlChain: fetched.urlChain.map(RegistryClient.redact), tlsCertificateSHA256: seen.certificateSHA256,
            httpVersion: seen.httpVersion, dockerContentDigest: fetched.dockerContentDigest,
            timings: .init(
                nameLookup: seen.timings.nameLookup, connect: seen.timings.connect, tlsHandshake: seen.timings.tlsHandshake,
                firstByte: seen.timings.firstByte, total: seen.timings.total),
            rateLimit: seen.rateLimit, sshHostKey: seen.sshHostKey)
    }
}
