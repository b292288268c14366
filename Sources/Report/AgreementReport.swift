import Agreement
import Foundation

/// The agreement report (`--report FILE`): what was verified, by which routes, under which policy,
/// and what was written. Field names are the stable contract in DESIGN.md ("3tofu.report/v1").
/// Reports never contain credentials or tokens.
public struct AgreementReport: Codable, Sendable, Equatable {
    public static let schemaIdentifier = "3tofu.report/v1"

    public var schema: String
    public var tool: Tool
    /// UTC, ISO 8601 with seconds (e.g. "2026-11-23T10:00:00Z").
    public var createdAt: String
    public var subject: Subject
    public var policy: PolicyReference
    public var verdict: Agreement.Verdict
    /// The verdict's reason in one sentence.
    public var reason: String
    /// What every answering vantage saw, when they agree; null otherwise.
    public var agreed: ObservedSubject?
    public var vantages: [VantageEntry]
    public var comparisons: [Comparison]
    public var artifact: Artifact?
    /// The earlier runs the policy's time rules relied on (absent when the policy has none).
    public var history: HistoryEvidence?
    /// The bytes of the downloaded blobs each vantage's route carried, in the vantages' order
    /// (absent when nothing was downloaded, and in reports written before it was recorded).
    public var blobRoutes: [RouteBytes]?
    public var signature: Signature?

    /// How many bytes of the downloaded blobs one vantage's route carried.
    public struct RouteBytes: Codable, Sendable, Equatable {
        public var vantage: String
        public var bytes: Int64
        public init(vantage: String, bytes: Int64) {
            self.vantage = vantage
            self.bytes = bytes
        }

        /// `bytes` (vantage name → bytes) in the vantages' `order`; nil when no route carried any.
        public static func list(_ bytes: [String: Int64], order: [String]) -> [RouteBytes]? {
            let list = order.compactMap { name in bytes[name].map { RouteBytes(vantage: name, bytes: $0) } }
            return list.isEmpty ? nil : list
        }
    }

    public init(
        tool: Tool, createdAt: String, subject: Subject, policy: PolicyReference, verdict: Agreement.Verdict, reason: String,
        agreed: ObservedSubject?, vantages: [VantageEntry], comparisons: [Comparison], artifact: Artifact?, signature: Signature? = nil
    ) {
        self.schema = Self.schemaIdentifier
        self.tool = tool
        self.createdAt = createdAt
        self.subject = subject
        self.policy = policy
        self.verdict = verdict
        self.reason = reason
        self.agreed = agreed
        self.vantages = vantages
        self.comparisons = comparisons
        self.artifact = artifact
        self.signature = signature
    }

    public struct Tool: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public init(name: String = "3tofu", version: String) {
            self.name = name
            self.version = version
        }
    }

    public struct Subject: Codable, Sendable, Equatable {
        public enum Kind: String, Codable, Sendable { case image, bottle, file }
        public var kind: Kind
        public var reference: String
        public var platform: String?
        public init(kind: Kind, reference: String, platform: String?) {
            self.kind = kind
            self.reference = reference
            self.platform = platform
        }
    }

    /// The policy the verdict was reached under. The parameters let a verifier recompute the verdict
    /// (`3tofu report verify`); they are always written, but reports of older versions lack them.
    public struct PolicyReference: Codable, Sendable, Equatable {
        public var name: String
        /// SHA-256 of the policy file's text.
        public var sha256: String
        public var minAgreeing: Int?
        public var maxUnavailable: Int?
        /// "source" or "every-vantage".
        public var blobVerification: String?
        public var requireRouteKinds: [String]?
        public var allowInsecureRegistries: Bool?
        /// Whether plain HTTP was allowed to the registry involved (`--insecure-registry`).
        public var usedInsecureRegistry: Bool?
        /// The time rules, written only when the policy has some.
        public var minDistinctDays: Int?
        public var minFirstSeenSeconds: Int?
        public var tagMoved: String?

        public init(
            name: String, sha256: String, minAgreeing: Int? = nil, maxUnavailable: Int? = nil, blobVerification: String? = nil,
            requireRouteKinds: [String]? = nil, allowInsecureRegistries: Bool? = nil, usedInsecureRegistry: Bool? = nil
        ) {
            self.name = name
            self.sha256 = sha256
            self.minAgreeing = minAgreeing
            self.maxUnavailable = maxUnavailable
            self.blobVerification = blobVerification
            self.requireRouteKinds = requireRouteKinds
            self.allowInsecureRegistries = allowInsecureRegistries
            self.usedInsecureRegistry = usedInsecureRegistry
        }

        /// Records `policy` and every parameter the verdict depends on.
        public init(_ policy: Policy, usedInsecureRegistry: Bool) {
            self.init(
                name: policy.name, sha256: policy.sha256, minAgreeing: policy.minAgreeing, maxUnavailable: policy.maxUnavailable,
                blobVerification: policy.blobVerification.rawValue, requireRouteKinds: policy.requireRouteKinds,
                allowInsecureRegistries: policy.allowInsecureRegistries, usedInsecureRegistry: usedInsecureRegistry)
            if policy.timeRules.needHistory {
                minDistinctDays = policy.timeRules.minDistinctDays
                minFirstSeenSeconds = policy.timeRules.minFirstSeenSeconds
                tagMoved = policy.timeRules.tagMoved.rawValue
            }
        }

        /// The recorded policy, when the report records every parameter (nil for older reports).
        public var parameters: Policy? {
            guard let minAgreeing, let maxUnavailable, let requireRouteKinds, let allowInsecureRegistries else { return nil }
            return Policy(
                name: name, description: "", minAgreeing: minAgreeing, maxUnavailable: maxUnavailable,
                blobVerification: blobVerification.flatMap(Policy.BlobVerification.init(rawValue:)) ?? .source,
                requireRouteKinds: requireRouteKinds, allowInsecureRegistries: allowInsecureRegistries, sha256: sha256)
                .with(timeRules)
        }

        /// The recorded time rules (none when the report records none).
        public var timeRules: TimeRules {
            TimeRules(
                minDistinctDays: minDistinctDays ?? 0, minFirstSeenSeconds: minFirstSeenSeconds ?? 0,
                tagMoved: tagMoved.flatMap(TimeRules.TagMoved.init(rawValue:)) ?? .allow)
        }
    }

    public struct VantageEntry: Codable, Sendable, Equatable {
        /// ok: answered; error: did not answer; tampered: answered with bytes that do not match their digest.
        public enum Status: String, Codable, Sendable { case ok, error, tampered }
        public var name: String
        /// "local", "proxy", "ssh".
        public var kind: String
        /// "direct" or the proxy URL without credentials.
        public var route: String
        public var status: Status
        public var error: String?
        /// What this vantage saw; null when it failed.
        public var observed: ObservedSubject?
        public var evidence: Evidence?
        public var seconds: Double

        public init(name: String, kind: String, route: String, status: Status, error: String?, observed: ObservedSubject?, evidence: Evidence?, seconds: Double) {
            self.name = name
            self.kind = kind
            self.route = route
            self.status = status
            self.error = error
            self.observed = observed
            self.evidence = evidence
            self.seconds = seconds
        }
    }

    /// How a vantage's answer for the top manifest reached it.
    public struct Evidence: Codable, Sendable, Equatable {
        public var remoteIP: String?
        /// The URL that finally answered, after redirects (query strings removed).
        public var effectiveURL: String?
        /// Every URL the request went through (query strings removed).
        public var urlChain: [String]
        /// SHA-256 fingerprints of the DER certificates presented, leaf first.
        public var tlsCertificateSHA256: [String]
        public var httpVersion: String?
        public var dockerContentDigest: String?
        public var timings: Timings
        public var rateLimit: [String: String]
        /// SSH vantages: the remote host's key fingerprint ("SHA256:…"), as checked against known_hosts.
        public var sshHostKey: String?
        /// A vantage whose TLS verification failed: the chain its route showed (leaf first),
        /// recorded over a connection that sent nothing. Shown, not trusted; absent otherwise.
        public var tlsCertificatesShownNotTrusted: [UntrustedCertificate]?
        /// A vantage whose TLS verification failed on a route that could not record what it was
        /// shown (an SSH vantage's remote without `openssl`): why. Absent otherwise.
        public var tlsCertificatesNotRecorded: String?

        /// One certificate a route showed when it failed verification.
        public struct UntrustedCertificate: Codable, Sendable, Equatable {
            /// SHA-256 of the DER certificate, bare lowercase hex.
            public var sha256: String
            public var subject: String?
            public var issuer: String?
            /// Validity as the certificate states it (ISO 8601 UTC).
            public var notBefore: String?
            public var notAfter: String?
            public init(sha256: String, subject: String?, issuer: String?, notBefore: String?, notAfter: String?) {
                self.sha256 = sha256
                self.subject = subject
                self.issuer = issuer
                self.notBefore = notBefore
                self.notAfter = notAfter
            }
        }

        public struct Timings: Codable, Sendable, Equatable {
            public var nameLookup: Double
            public var connect: Double
            public var tlsHandshake: Double
            public var firstByte: Double
            public var total: Double
            public init(nameLookup: Double, connect: Double, tlsHandshake: Double, firstByte: Double, total: Double) {
                self.nameLookup = nameLookup
                self.connect = connect
                self.tlsHandshake = tlsHandshake
                self.firstByte = firstByte
                self.total = total
            }
        }

        public init(remoteIP: String?, effectiveURL: String?, urlChain: [String], tlsCertificateSHA256: [String], httpVersion: String?, dockerContentDigest: String?, timings: Timings, rateLimit: [String: String], sshHostKey: String? = nil) {
            self.sshHostKey = sshHostKey
            self.remoteIP = remoteIP
            self.effectiveURL = effectiveURL
            self.urlChain = urlChain
            self.tlsCertificateSHA256 = tlsCertificateSHA256
            self.httpVersion = httpVersion
            self.dockerContentDigest = dockerContentDigest
            self.timings = timings
            self.rateLimit = rateLimit
        }
    }

    public struct Artifact: Codable, Sendable, Equatable {
        public var path: String
        public var format: String
        /// SHA-256 of the written file (for a layout directory: of its index.json).
        public var sha256: String
        /// Digest of the image manifest the output's index.json points at ("sha256:…").
        public var manifestDigest: String?
        /// When `manifestDigest` is the OCI conversion of a verified Docker manifest: that manifest's digest.
        public var convertedFrom: String?
        public init(path: String, format: String, sha256: String, manifestDigest: String? = nil, convertedFrom: String? = nil) {
            self.path = path
            self.format = format
            self.sha256 = sha256
            self.manifestDigest = manifestDigest
            self.convertedFrom = convertedFrom
        }
    }

    public struct Signature: Codable, Sendable, Equatable {
        public var algorithm: String
        public var publicKey: String
        public var value: String
        public init(algorithm: String, publicKey: String, value: String) {
            self.algorithm = algorithm
            self.publicKey = publicKey
            self.value = value
        }
    }
}
