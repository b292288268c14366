import Foundation
import Agreement
import Artifacts
import Configuration

/// Everything one `3tofu fetch` needs, already validated.
public struct FetchRequest: Sendable {
    /// The http:// or https:// URL of the file.
    public var url: String
    /// A published checksum file (SHA256SUMS style) that every vantage also reads.
    public var checksumsURL: String?
    public var vantages: [VantageSpec]
    public var policy: Policy
    /// The earlier runs the policy's time rules count (nil: none read), and the time the run decides at.
    public var history: TimeRules.History?
    /// Extra trusted CAs for every vantage.
    public var caCertificatePath: String?
    public var storeRoot: String
    /// Seconds one vantage may take to download and hash the file.
    public var vantageTimeout: Double
    /// nil: compare only, write nothing.
    public var outputPath: String?
    /// Records the output once it is in place, so that the command can take it back if the run
    /// then fails; nil: the output is final at once.
    public var journal: CommitJournal?
    /// The most bytes the file may have (`--max-size`): every vantage stops a download there.
    public var maximumSize: Int64

    /// The default `--max-size`: 16 GiB, above any release file we know of, and a bound on what a
    /// route sending an endless body can make a vantage download (and this machine store).
    public static let defaultMaximumSize: Int64 = 16 << 30

    public init(
        url: String, checksumsURL: String?, vantages: [VantageSpec], policy: Policy, caCertificatePath: String?, storeRoot: String,
        vantageTimeout: Double = 60, outputPath: String?, maximumSize: Int64 = FetchRequest.defaultMaximumSize
    ) {
        self.maximumSize = maximumSize
        self.url = url
        self.checksumsURL = checksumsURL
        self.vantages = vantages
        self.policy = policy
        self.caCertificatePath = caCertificatePath
        self.storeRoot = storeRoot
        self.vantageTimeout = vantageTimeout
        self.outputPath = outputPath
    }

    /// A size as `--max-size` takes it: bytes, or a number with K, M, G or T (powers of 1024,
    /// an optional trailing "iB" or "B"); nil when it is not one.
    public static func parseSize(_ text: String) -> Int64? {
        var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        let shifts: [Character: Int64] = ["K": 10, "M": 20, "G": 30, "T": 40]
        var shift: Int64 = 0
        if let last = digits.last, let found = shifts[last] {
            shift = found
            digits.removeLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let number = Int64(digits) else { return nil }
        let (value, overflow) = number.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? nil : value
    }

    /// Plain HTTP is used for the file or the checksum file (a policy may forbid it).
    var usesPlainHTTP: Bool {
        ([url] + [checksumsURL].compactMap { $0 }).contains { $0.lowercased().hasPrefix("http://") }
    }
}

/// The outcome of a `fetch`: every vantage's part, the decision, and what was written.
public struct FetchResult: Sendable {
    public var request: FetchRequest
    public var vantages: [FileRun]
    public var decision: Decision<ObservedFile>
    /// The output path and the hex SHA-256 of what was written there.
    public var written: (path: String, sha256: String)?

    public var answeringCount: Int { vantages.filter(\.answered).count }
}
