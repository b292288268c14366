import Agreement
import Configuration

/// Everything one `3tofu fetch` needs, already validated.
public struct FetchRequest: Sendable {
    /// The http:// or https:// URL of the file.
    public var url: String
    /// A published checksum file (SHA256SUMS style) that every vantage also reads.
    public var checksumsURL: String?
    public var vantages: [VantageSpec]
    public var policy: Policy
    /// Extra trusted CAs for every vantage.
    public var caCertificatePath: String?
    public var storeRoot: String
    /// Seconds one vantage may take to download and hash the file.
    public var vantageTimeout: Double
    /// nil: compare only, write nothing.
    public var outputPath: String?

    public init(
        url: String, checksumsURL: String?, vantages: [VantageSpec], policy: Policy, caCertificatePath: String?, storeRoot: String,
        vantageTimeout: Double = 60, outputPath: String?
    ) {
        self.url = url
        self.checksumsURL = checksumsURL
        self.vantages = vantages
        self.policy = policy
        self.caCertificatePath = caCertificatePath
        self.storeRoot = storeRoot
        self.vantageTimeout = vantageTimeout
        self.outputPath = outputPath
    }

    /// Plain HTTP is used for the file or the checksum file (a policy may forbid it).
    var usesPlainHTTP: Bool {
        ([url] + [checksumsURL].compactMap { $0 }).contains { $0.lowercased().hasPrefix("http://") }
    }
}

/// The outcome of a `fetch`: every vantage's part, the decision, and what was written.
public struct FetchResult: Sendable {
    public var request: FetchRequest
    public var vantages: [SubjectRun<ObservedFile>]
    public var decision: Decision<ObservedFile>
    /// The output path and the hex SHA-256 of what was written there.
    public var written: (path: String, sha256: String)?

    public var answeringCount: Int { vantages.filter { $0.failure == nil }.count }
}
