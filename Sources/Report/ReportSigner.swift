import Foundation

/// Signs agreement reports with Ed25519 over their canonical form, and checks such signatures.
///
/// The canonical form (docs/REPORT-SIGNING.md) is the report's JSON without its top-level
/// `signature` member, serialised by `CanonicalJSON`: keys sorted by UTF-8 bytes, no whitespace.
/// Verification canonicalises the report file's own JSON, so every member in the file is covered,
/// including ones this version of 3tofu does not know.
public enum ReportSigner {
    public static let algorithm = "ed25519"

    /// What a signature check found.
    public enum Check: Equatable, Sendable {
        /// The report carries no signature.
        case unsigned
        /// The signature is valid and made by `key`. `trusted` is false when the key was only taken
        /// from the report itself (anyone who edits the report can re-sign it with their own key).
        case valid(key: ReportPublicKey, trusted: Bool)
        /// The signature does not hold; the reason says why.
        case invalid(String)
    }

    /// The bytes a signature covers for `report` as this version encodes it.
    public static func canonicalForm(_ report: AgreementReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var unsigned = report
        unsigned.signature = nil
        return try canonicalForm(ofJSON: encoder.encode(unsigned))
    }

    /// The bytes a signature covers for a report's JSON text (as read from a file).
    public static func canonicalForm(ofJSON data: Data) throws -> Data {
        guard case .object(var members) = try CanonicalJSON.parse(data) else {
            throw ReportError("a report must be a JSON object")
        }
        members["signature"] = nil
        return CanonicalJSON.object(members).canonicalData
    }

    /// `report` with `signature` set: Ed25519 by `key` over `canonicalForm(report)`.
    public static func sign(_ report: AgreementReport, key: ReportSigningKey) throws -> AgreementReport {
        let signature = try key.signature(for: canonicalForm(report))
        var signed = report
        signed.signature = .init(algorithm: algorithm, publicKey: key.publicKey.base64, value: signature.base64EncodedString())
        return signed
    }

    /// Checks the signature of the report whose file bytes are `data`. With `trustedKey`, the report
    /// must be signed by exactly that key; without it the key inside the report is used, and a valid
    /// signature comes back with `trusted: false`.
    public static func check(reportJSON data: Data, trustedKey: ReportPublicKey?) throws -> Check {
        let parsed = try CanonicalJSON.parse(data)
        guard let signature = parsed["signature"], signature != .null else { return .unsigned }
        guard case .string(let algorithm)? = signature["algorithm"], case .string(let keyText)? = signature["publicKey"],
              case .string(let valueText)? = signature["value"]
        else {
            return .invalid("the signature object is malformed: it needs the strings algorithm, publicKey and value")
        }
        guard algorithm == Self.algorithm else {
            return .invalid("the signature algorithm is '\(algorithm)'; this 3tofu verifies only \(Self.algorithm)")
        }
        let embedded: ReportPublicKey
        do {
            embedded = try ReportPublicKey(base64: keyText, source: "signature.publicKey")
        } catch let error as ReportError {
            return .invalid(error.message)
        }
        if let trustedKey, trustedKey != embedded {
            return .invalid("the report is signed by key \(embedded.fingerprint), not by the given key \(trustedKey.fingerprint)")
        }
        guard let value = Data(base64Encoded: valueText), value.count == 64 else {
            return .invalid("signature.value is not the base64 of a 64-byte Ed25519 signature")
        }
        let key = trustedKey ?? embedded
        guard key.isValidSignature(value, for: try canonicalForm(ofJSON: data)) else {
            return .invalid("the signature by key \(key.fingerprint) does not match the report's content: the report was changed after it was signed")
        }
        return .valid(key: key, trusted: trustedKey != nil)
    }
}
