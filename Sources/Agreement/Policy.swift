/// When observations are enough to trust an artifact. Dissent is never tolerated, whatever the policy.
public struct Policy: Sendable, Equatable {
    public enum BlobVerification: String, Sendable, Equatable, CaseIterable {
        /// Blob bytes are verified once, from one vantage, against the agreed digests.
        case source
        /// Every vantage downloads and hashes every blob.
        case everyVantage = "every-vantage"
    }

    public var name: String
    public var description: String
    /// Answering vantages that must agree.
    public var minAgreeing: Int
    /// Vantages allowed to fail to answer.
    public var maxUnavailable: Int
    public var blobVerification: BlobVerification
    /// At least one answering vantage of each of these kinds ("local", "proxy", "ssh").
    public var requireRouteKinds: [String]
    public var allowInsecureRegistries: Bool
    /// SHA-256 of the policy's text, recorded in reports.
    public var sha256: String
    /// Rules over the history of earlier runs (`min_distinct_days`, `min_first_seen`, `tag_moved`); none by default.
    public var timeRules = TimeRules()

    public init(
        name: String, description: String, minAgreeing: Int, maxUnavailable: Int, blobVerification: BlobVerification = .source,
        requireRouteKinds: [String] = [], allowInsecureRegistries: Bool = true, sha256: String = ""
    ) {
        self.name = name
        self.description = description
        self.minAgreeing = minAgreeing
        self.maxUnavailable = maxUnavailable
        self.blobVerification = blobVerification
        self.requireRouteKinds = requireRouteKinds
        self.allowInsecureRegistries = allowInsecureRegistries
        self.sha256 = sha256
    }
}
