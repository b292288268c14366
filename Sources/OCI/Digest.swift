/// A content digest such as `sha256:<64 lowercase hex>`: the address of a blob or manifest.
/// Only algorithms the OCI image spec registers are accepted, with their exact hex lengths.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A registered digest algorithm.
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha256
        case sha512

        /// Number of lowercase hex characters in an encoded digest of this algorithm.
        public var hexLength: Int {
            switch self {
            case .sha256: 64
            case .sha512: 128
            }
        }
    }

    public let algorithm: Algorithm
    /// The lowercase hex part after the colon.
    public let encoded: String

    /// Parses `algorithm:hex`, e.g. `sha256:2cf24dba…`.
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw OCIError(.invalidDigest, "digest \(quoted(text)) has no ':'; a digest looks like sha256:<64 lowercase hex digits>")
        }
        let name = text[..<colon]
        let hex = String(text[text.index(after: colon)...])
        guard Digest.isAlgorithmName(name) else {
            throw OCIError(.invalidDigest, "digest \(quoted(text)) has a malformed algorithm \(quoted(String(name))); a digest looks like sha256:<64 lowercase hex digits>")
        }
        guard let algorithm = Algorithm(rawValue: String(name)) else {
            throw OCIError(
                .unsupportedDigestAlgorithm,
                "digest \(quoted(text)) uses algorithm \(quoted(String(name))), which is not supported; use a sha256 or sha512 digest"
            )
        }
        try self.init(algorithm: algorithm, encoded: hex, context: text)
    }

    /// Builds a digest from its parts, checking the hex against the algorithm.
    public init(algorithm: Algorithm, encoded: String) throws {
        try self.init(algorithm: algorithm, encoded: encoded, context: "\(algorithm.rawValue):\(encoded)")
    }

    private init(algorithm: Algorithm, encoded: String, context: String) throws {
        let count = encoded.utf8.count
        guard count == algorithm.hexLength else {
            throw OCIError(
                .invalidDigest,
                "digest \(quoted(context)) has \(count) hex digits; \(algorithm.rawValue) needs exactly \(algorithm.hexLength)"
            )
        }
        guard encoded.utf8.allSatisfy(isLowercaseHexDigit) else {
            let hint = encoded.utf8.allSatisfy(isHexDigit)
                ? " (hex must be lowercase)" : ""
            throw OCIError(.invalidDigest, "digest \(quoted(context)) contains characters other than lowercase hex digits\(hint)")
        }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The canonical `algorithm:hex` form.
    public var string: String { "\(algorithm.rawValue):\(encoded)" }

    /// `algorithm:` and the first 12 hex digits, for tables and log lines.
    public var short: String { "\(algorithm.rawValue):\(encoded.prefix(12))" }

    public var description: String { string }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.string < rhs.string }

    /// The OCI grammar for an algorithm: `[a-z0-9]+([+._-][a-z0-9]+)*`.
    private static func isAlgorithmName(_ name: Substring) -> Bool {
        var previousWasSeparator = true
        for byte in name.utf8 {
            if isLowercaseAlphanumeric(byte) {
                previousWasSeparator = false
            } else if "+._-".utf8.contains(byte), !previousWasSeparator {
                previousWasSeparator = true
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch let error as OCIError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}

/// `Digest` under a name that cannot clash with swift-crypto's `Digest` protocol in files importing both.
public typealias OCIDigest = Digest
