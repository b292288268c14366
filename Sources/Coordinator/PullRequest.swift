import Agreement
import Artifacts
import Configuration
import OCI
import Registry

/// Everything one pull (or resolve) needs, already validated.
public struct PullRequest: Sendable {
    public struct Output: Sendable {
        public var path: String
        public var format: OutputFormat
        /// Records the output once it is in place, so that the command can take it back if the
        /// run then fails (a report that cannot be written); nil: the output is final at once.
        public var journal: CommitJournal?
        public init(path: String, format: OutputFormat, journal: CommitJournal? = nil) {
            self.path = path
            self.format = format
            self.journal = journal
        }
    }

    public var reference: ImageReference
    public var platform: Platform
    public var vantages: [VantageSpec]
    public var policy: Policy
    /// `host[:port]` values spoken to over plain HTTP.
    public var insecureRegistries: Set<String>
    /// Extra trusted CAs for every vantage.
    public var caCertificatePath: String?
    public var credentials: RegistryCredentials
    public var storeRoot: String
    /// nil: resolve only, download no layer.
    public var output: Output?
    /// Blob downloads in flight at once from the source vantage.
    public var blobConcurrency: Int
    /// Seconds one vantage may take to resolve before it counts as not answering.
    public var vantageTimeout: Double
    /// The earlier runs the policy's time rules count (nil: none read), and the time the run decides at.
    public var history: TimeRules.History?
    /// `--all-platforms`: the whole index (every platform, attestations kept), not one platform.
    public var allPlatforms = false

    public init(
        reference: ImageReference, platform: Platform, vantages: [VantageSpec], policy: Policy, insecureRegistries: Set<String>,
        caCertificatePath: String?, credentials: RegistryCredentials, storeRoot: String, vantageTimeout: Double = 60, output: Output?, blobConcurrency: Int = 4
    ) {
        self.reference = reference
        self.platform = platform
        self.vantages = vantages
        self.policy = policy
        self.insecureRegistries = insecureRegistries
        self.caCertificatePath = caCertificatePath
        self.credentials = credentials
        self.storeRoot = storeRoot
        self.output = output
        self.blobConcurrency = blobConcurrency
        self.vantageTimeout = vantageTimeout
    }

    var usesInsecureRegistry: Bool { insecureRegistries.contains(reference.registry) }
}
