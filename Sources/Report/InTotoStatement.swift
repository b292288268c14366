import Foundation

/// The agreement report as an in-toto Statement v1 (`--attestation FILE`), for supply-chain tools:
/// the subjects are the written artifact (its SHA-256 as the report records it) and, for an image,
/// the image by its agreed manifest digest; the predicate is the report itself.
public struct InTotoStatement: Codable, Sendable, Equatable {
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let predicateType = "https://3tofu.dev/agreement/v1"

    public struct Subject: Codable, Sendable, Equatable {
        public var name: String
        public var digest: [String: String]
        public init(name: String, digest: [String: String]) {
            self.name = name
            self.digest = digest
        }
    }

    public var type: String
    public var subject: [Subject]
    public var predicateType: String
    public var predicate: AgreementReport

    enum CodingKeys: String, CodingKey {
        case type = "_type"
        case subject, predicateType, predicate
    }

    /// The statement for `report`; nil when the report vouches for nothing (the verdict is not agree).
    public init?(report: AgreementReport) {
        guard report.verdict == .agree, let agreed = report.agreed else { return nil }
        var subjects: [Subject] = []
        if let artifact = report.artifact {
            let file = URL(fileURLWithPath: artifact.path).lastPathComponent
            let name = artifact.format == "oci" ? "\(file)/index.json" : file
            subjects.append(Subject(name: name, digest: ["sha256": artifact.sha256]))
        }
        switch agreed {
        case .image(let image):
            if let split = Self.split(image.topDigest) {
                subjects.append(Subject(name: report.subject.reference, digest: [split.algorithm: split.hex]))
            }
        case .file(let file):
            if report.artifact == nil, let split = Self.split(file.sha256) {
                subjects.append(Subject(name: report.subject.reference, digest: [split.algorithm: split.hex]))
            }
        case .bottle(let bottle):
            if report.artifact == nil, let split = Self.split(bottle.layerDigest) {
                subjects.append(Subject(name: report.subject.reference, digest: [split.algorithm: split.hex]))
            }
        }
        guard !subjects.isEmpty else { return nil }
        type = Self.statementType
        subject = subjects
        predicateType = Self.predicateType
        predicate = report
    }

    private static func split(_ digest: String) -> (algorithm: String, hex: String)? {
        guard let colon = digest.firstIndex(of: ":") else { return nil }
        return (String(digest[..<colon]), String(digest[digest.index(after: colon)...]))
    }

    /// JSON with sorted keys, as reports are written.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0a)
        return data
    }
}
