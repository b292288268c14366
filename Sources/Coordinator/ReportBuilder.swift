import Agreement
import Configuration
import Foundation
import Registry
import Report
import Transport

/// One vantage's part in a run of any subject, as its report records it: what `Agreement` was
/// given for it, how its answer reached it, and how long it took.
public protocol VantageOutcome: Sendable {
    associatedtype Subject: Observable
    var observation: Observation<Subject> { get }
    var evidence: AgreementReport.Evidence? { get }
    var seconds: Double { get }
}

/// Turns a run into its agreement report: the one place a report is made, for an image, a file
/// or a bottle, so every report records the same things (the policy's parameters, each vantage's
/// evidence, what a refused vantage saw). Only what a vantage saw and how goes in: URLs lose their
/// query strings, and no header value that could carry a credential is ever copied.
public enum ReportBuilder {
    /// The report of one image (`pull`, `resolve`, each image of a bundle).
    public static func make(_ result: PullResult, toolVersion: String, createdAt: Date = Date()) -> AgreementReport {
        let request = result.request
        let artifact = result.written.map {
            AgreementReport.Artifact(
                path: $0.path, format: $0.format.rawValue, sha256: $0.sha256, manifestDigest: $0.manifestDigestWritten.description,
                convertedFrom: $0.convertedFrom?.description)
        }
        var report = make(
            subject: .init(kind: .image, reference: request.reference.description, platform: request.allPlatforms ? "all" : request.platform.description),
            policy: request.policy, usedInsecureRegistry: request.usesInsecureRegistry, decision: result.decision, vantages: result.vantages,
            artifact: artifact, wrap: ObservedSubject.image, toolVersion: toolVersion, createdAt: createdAt)
        report.blobRoutes = AgreementReport.RouteBytes.list(result.bytesByRoute, order: result.vantages.map(\.spec.name))
        return report
    }

    /// The report of a `fetch`.
    public static func make(_ result: FetchResult, toolVersion: String, createdAt: Date = Date()) -> AgreementReport {
        make(
            subject: .init(kind: .file, reference: RegistryClient.redact(result.request.url), platform: nil),
            policy: result.request.policy, usedInsecureRegistry: result.request.usesPlainHTTP, decision: result.decision, vantages: result.vantages,
            artifact: result.written.map { AgreementReport.Artifact(path: $0.path, format: "file", sha256: $0.sha256) },
            wrap: ObservedSubject.file, toolVersion: toolVersion, createdAt: createdAt)
    }

    /// The report of one formula of a `bottle` run; its notes follow the verdict's reason.
    public static func make(_ result: BottleResult, request: BottleRequest, toolVersion: String, createdAt: Date = Date()) -> AgreementReport {
        var reference = result.argument
        if let seen = result.decision.agreed ?? result.vantages.compactMap(\.observed).first {
            reference = "\(request.registry)/\(request.repository(for: seen.formula)):\(HomebrewNaming.imageTag(packageVersion: seen.version, rebuild: seen.rebuild))"
        }
        return make(
            subject: .init(kind: .bottle, reference: reference, platform: request.tag),
            policy: request.policy, usedInsecureRegistry: request.usesPlainHTTP, decision: result.decision, notes: result.notes,
            vantages: result.vantages, artifact: result.written.map { AgreementReport.Artifact(path: $0.path, format: "bottle", sha256: $0.sha256) },
            wrap: ObservedSubject.bottle, toolVersion: toolVersion, createdAt: createdAt)
    }

    /// Every report goes through here: the policy with every parameter `report verify` needs to
    /// recompute the verdict, and one entry per vantage made from its observation.
    static func make<Run: VantageOutcome>(
        subject: AgreementReport.Subject, policy: Policy, usedInsecureRegistry: Bool, decision: Decision<Run.Subject>, notes: [String] = [],
        vantages: [Run], artifact: AgreementReport.Artifact?, wrap: (Run.Subject) -> ObservedSubject, toolVersion: String, createdAt: Date
    ) -> AgreementReport {
        AgreementReport(
            tool: .init(version: toolVersion), createdAt: ReportFile.timestamp(createdAt), subject: subject,
            policy: .init(policy, usedInsecureRegistry: usedInsecureRegistry),
            verdict: decision.verdict, reason: ([decision.reason] + notes).joined(separator: " "), agreed: decision.agreed.map(wrap),
            vantages: vantages.map { entry($0, wrap: wrap) }, comparisons: decision.comparisons, artifact: artifact)
    }

    /// A vantage's entry: `ok` with what it saw, `error` with why it gave nothing, or `tampered`
    /// with why it was refused (and what it saw, when its answer contradicted itself).
    static func entry<Run: VantageOutcome>(_ run: Run, wrap: (Run.Subject) -> ObservedSubject) -> AgreementReport.VantageEntry {
        let observation = run.observation
        let (status, error): (AgreementReport.VantageEntry.Status, String?) =
            switch observation.outcome {
            case .observed: (.ok, nil)
            case .failed(let message): (.error, message)
            case .tampered(let message), .contradicted(_, let message): (.tampered, message)
            }
        return AgreementReport.VantageEntry(
            name: observation.vantage, kind: observation.kind, route: observation.route, status: status, error: error,
            observed: observation.seen.map(wrap), evidence: run.evidence, seconds: (run.seconds * 1000).rounded() / 1000)
    }

    /// How a vantage's answer reached it: the transport's view of the last hop (including an SSH
    /// vantage's host key) and every URL the request went through.
    static func evidence(_ seen: TransportEvidence, chain: [String], dockerContentDigest: String? = nil) -> AgreementReport.Evidence {
        var evidence = AgreementReport.Evidence(
            remoteIP: seen.remoteIP, effectiveURL: (seen.effectiveURL ?? chain.last).map(RegistryClient.redact),
            urlChain: chain.map(RegistryClient.redact), tlsCertificateSHA256: seen.certificateSHA256,
            httpVersion: seen.httpVersion, dockerContentDigest: dockerContentDigest,
            timings: .init(
                nameLookup: seen.timings.nameLookup, connect: seen.timings.connect, tlsHandshake: seen.timings.tlsHandshake,
                firstByte: seen.timings.firstByte, total: seen.timings.total),
            rateLimit: seen.rateLimit, sshHostKey: seen.sshHostKey)
        evidence.tlsCertificatesShownNotTrusted = seen.untrustedCertificates.map { $0.map(FailureEvidence.untrusted) }
        evidence.tlsCertificatesNotRecorded = seen.untrustedCertificatesNotRecorded
        return evidence
    }

    /// How a manifest or index reached a vantage.
    static func evidence(_ fetched: FetchedManifest) -> AgreementReport.Evidence {
        evidence(fetched.evidence, chain: fetched.urlChain, dockerContentDigest: fetched.dockerContentDigest)
    }
}
