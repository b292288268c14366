import Agreement
import Artifacts
import Configuration
import Registry

/// Everything one `3tofu bottle` needs, already validated: one formula or several, one bottle tag.
public struct BottleRequest: Sendable {
    /// As typed: `wget`, `openssl@3`, `wget@1.24.5`, `openssl@3@3.3.1`.
    public var formulae: [String]
    /// The bottle tag, e.g. `arm64_sonoma`.
    public var tag: String
    /// Registry host[:port], e.g. `ghcr.io`.
    public var registry: String
    /// The earlier agreeing runs of bottles for this tag, when the policy's time rules need them.
    public var histories: BottleHistories?
    /// Repository prefix on that registry, e.g. `homebrew/core`.
    public var repositoryPrefix: String
    /// Formula API base URL without a trailing slash; `NAME.json` is appended.
    public var formulaAPI: String
    public var vantages: [VantageSpec]
    public var policy: Policy
    public var insecureRegistries: Set<String>
    public var caCertificatePath: String?
    public var credentials: RegistryCredentials
    public var storeRoot: String
    public var vantageTimeout: Double
    /// Where bottles are written; nil: compare only.
    public var outputDirectory: String?
    /// Records each bottle once it is in place, so that the command can take them all back if
    /// the run then fails (a later bottle or a report that cannot be written); nil: each is final at once.
    public var journal: CommitJournal?
    /// Formulae verified at once.
    public var concurrency: Int

    public init(
        formulae: [String], tag: String, registry: String, repositoryPrefix: String, formulaAPI: String, vantages: [VantageSpec], policy: Policy,
        insecureRegistries: Set<String>, caCertificatePath: String?, credentials: RegistryCredentials, storeRoot: String, vantageTimeout: Double = 60,
        outputDirectory: String?, concurrency: Int = 4
    ) {
        self.formulae = formulae
        self.tag = tag
        self.registry = registry
        self.repositoryPrefix = repositoryPrefix
        self.formulaAPI = formulaAPI
        self.vantages = vantages
        self.policy = policy
        self.insecureRegistries = insecureRegistries
        self.caCertificatePath = caCertificatePath
        self.credentials = credentials
        self.storeRoot = storeRoot
        self.vantageTimeout = vantageTimeout
        self.outputDirectory = outputDirectory
        self.concurrency = concurrency
    }

    /// The repository holding a formula's images, e.g. `homebrew/core/openssl/3`.
    public func repository(for formula: String) -> String {
        (repositoryPrefix.isEmpty ? "" : repositoryPrefix + "/") + HomebrewNaming.imageName(formula)
    }

    var usesPlainHTTP: Bool {
        insecureRegistries.contains(registry) || formulaAPI.lowercased().hasPrefix("http://")
    }
}

/// The outcome for one formula: every vantage's part, the decision, notes for the report, and the file written.
public struct BottleResult: Sendable {
    /// The formula as typed.
    public var argument: String
    public var vantages: [BottleRun]
    public var decision: Decision<ObservedBottle>
    /// Things the report must say besides the verdict (e.g. the formula API check was skipped).
    public var notes: [String]
    /// The bottle file written and the hex SHA-256 of its bytes.
    public var written: (path: String, sha256: String)?

    public var answeringCount: Int { vantages.filter(\.answered).count }
}
