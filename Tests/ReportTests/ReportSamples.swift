import Agreement
import Report

/// Reports built the way the coordinator builds them: observations through `Agreement.decide`.
enum ReportSamples {
    static func digest(_ seed: Character) -> String { "sha256:" + String(repeating: seed, count: 64) }

    static func image(manifest: Character = "a", config: Character = "c", layers: [Character] = ["1", "2", "3"]) -> ObservedImage {
        ObservedImage(
            topDigest: digest(manifest), topMediaType: "application/vnd.oci.image.index.v1+json",
            platformManifestDigest: digest("b"), configDigest: digest(config),
            layers: layers.enumerated().map { .init(digest: digest($0.element), size: Int64(1000 + $0.offset)) })
    }

    static func evidence(ip: String, leaf: Character = "e", rateLimit: [String: String] = [:], chain: [String]? = nil) -> AgreementReport.Evidence {
        let url = "https://r.test/v2/app/manifests/1"
        return AgreementReport.Evidence(
            remoteIP: ip, effectiveURL: chain?.last ?? url, urlChain: chain ?? [url], tlsCertificateSHA256: [String(repeating: leaf, count: 64)],
            httpVersion: "2", dockerContentDigest: digest("a"),
            timings: .init(nameLookup: 0.001, connect: 0.002, tlsHandshake: 0.01, firstByte: 0.02, total: 0.03), rateLimit: rateLimit)
    }

    struct Run {
        var name: String
        var kind: String
        var route: String
        var outcome: Result<ObservedImage, SampleFailure>
        var evidence: AgreementReport.Evidence?
    }

    struct SampleFailure: Error { var message: String }

    static let policy = Policy(name: "strict", description: "All of them.", minAgreeing: 3, maxUnavailable: 0, sha256: String(repeating: "f", count: 64))

    static func report(
        _ runs: [Run], artifact: AgreementReport.Artifact? = nil, signature: AgreementReport.Signature? = nil, subjectPlatform: String? = "linux/amd64"
    ) -> AgreementReport {
        let observations = runs.map { run -> Observation<ObservedImage> in
            switch run.outcome {
            case .success(let image): Observation(vantage: run.name, kind: run.kind, route: run.route, outcome: .observed(image))
            case .failure(let failure): Observation(vantage: run.name, kind: run.kind, route: run.route, outcome: .failed(failure.message))
            }
        }
        let decision = Agreement.decide(observations, policy: policy)
        let entries = runs.map { run in
            switch run.outcome {
            case .success(let image):
                AgreementReport.VantageEntry(
                    name: run.name, kind: run.kind, route: run.route, status: .ok, error: nil, observed: .image(image), evidence: run.evidence, seconds: 0.5)
            case .failure(let failure):
                AgreementReport.VantageEntry(
                    name: run.name, kind: run.kind, route: run.route, status: .error, error: failure.message, observed: nil, evidence: run.evidence, seconds: 1.25)
            }
        }
        return AgreementReport(
            tool: .init(version: "0.1.0"), createdAt: "2026-11-23T10:00:00Z",
            subject: .init(kind: .image, reference: "r.test/app:1", platform: subjectPlatform),
            policy: .init(name: policy.name, sha256: policy.sha256), verdict: decision.verdict, reason: decision.reason,
            agreed: decision.agreed.map(ObservedSubject.image), vantages: entries, comparisons: decision.comparisons,
            artifact: decision.verdict == .agree ? artifact : nil, signature: signature)
    }

    static let writtenArtifact = AgreementReport.Artifact(path: "/tmp/app.tar", format: "docker-archive", sha256: String(repeating: "0", count: 64))

    static var agree: AgreementReport {
        report([
            Run(name: "home", kind: "local", route: "direct", outcome: .success(image()), evidence: evidence(ip: "127.0.0.1", rateLimit: ["ratelimit-remaining": "99;w=21600", "ratelimit-limit": "100"])),
            Run(name: "tor", kind: "proxy", route: "socks5h://127.0.0.1:9050", outcome: .success(image()), evidence: evidence(ip: "10.0.0.2")),
            Run(name: "vps-fra", kind: "ssh", route: "ssh://verify@203.0.113.7:22", outcome: .success(image()), evidence: evidence(ip: "203.0.113.9")),
        ], artifact: writtenArtifact)
    }

    /// "tor" sees another manifest and config (a man in the middle on that route).
    static var disagree: AgreementReport {
        report([
            Run(name: "home", kind: "local", route: "direct", outcome: .success(image()), evidence: evidence(ip: "127.0.0.1")),
            Run(name: "tor", kind: "proxy", route: "socks5h://127.0.0.1:9050", outcome: .success(image(manifest: "9", config: "8")), evidence: evidence(ip: "10.6.6.6", leaf: "6")),
            Run(name: "vps-fra", kind: "ssh", route: "ssh://verify@203.0.113.7:22", outcome: .success(image()), evidence: evidence(ip: "203.0.113.9")),
        ], artifact: writtenArtifact)
    }

    /// "mirror" failed; the other two agree, which the strict policy does not accept.
    static var insufficient: AgreementReport {
        report([
            Run(name: "home", kind: "local", route: "direct", outcome: .success(image()), evidence: evidence(ip: "127.0.0.1")),
            Run(name: "mirror", kind: "proxy", route: "http://127.0.0.1:8888", outcome: .failure(SampleFailure(message: "proxy refused CONNECT to r.test:443 (HTTP 403)")), evidence: nil),
            Run(name: "vps-fra", kind: "ssh", route: "ssh://verify@203.0.113.7:22", outcome: .success(image()), evidence: evidence(ip: "203.0.113.9")),
        ])
    }
}
