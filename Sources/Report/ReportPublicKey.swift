import Crypto
import Foundation

/// An Ed25519 public key that verifies report signatures. On disk (`KEY.pub`) it is one line,
/// `3tofu-ed25519 <base64 of the raw 32 bytes>` and optionally a comment; in a report's
/// `signature.publicKey` it is the base64 alone.
public struct ReportPublicKey: Sendable, Equatable {
    public static let prefix = "3tofu-ed25519"

    /// The raw 32 bytes (kept as bytes: swift-crypto's key types are not `Sendable`).
    let raw: Data

    init(raw: Data) {
        self.raw = raw
    }

    /// From the base64 of the raw 32 bytes (as `signature.publicKey` holds it).
    public init(base64: String, source: String = "the public key") throws {
        guard let raw = Data(base64Encoded: base64), raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw ReportError("\(source) is not an Ed25519 public key (expected the base64 of 32 bytes)")
        }
        self.raw = raw
    }

    /// Reads a `KEY.pub` file; a 3tofu private key file is accepted too (its public half is used).
    public static func load(path: String) throws -> ReportPublicKey {
        let data: Data
        do {
            data = try BoundedFile.readWhole(path, what: "the public key", limit: 64 << 10)
        } catch let error as ReportError {
            throw ReportError("\(error.message); check the path (keys come from `3tofu keygen --output KEY`, which writes KEY.pub)")
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.contains(ReportSigningKey.begin) {
            return try ReportSigningKey(text: text, source: path).publicKey
        }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0.isNewline })
        guard fields.count >= 2, fields[0] == Self.prefix else {
            throw ReportError("\(path) is not a 3tofu public key; expected a line \"\(Self.prefix) <base64>\" as `3tofu keygen` writes to KEY.pub")
        }
        return try ReportPublicKey(base64: String(fields[1]), source: path)
    }

    /// Base64 of the raw 32 bytes.
    public var base64: String { raw.base64EncodedString() }

    /// `SHA256:<base64 without padding>` of the raw key, the way ssh-keygen shows fingerprints.
    public var fingerprint: String {
        let digest = Data(SHA256.hash(data: raw))
        return "SHA256:" + digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// The fingerprint of a key given as the base64 of its raw bytes (a report's
    /// `signature.publicKey`), in the one form 3tofu prints keys everywhere; nil when the text is
    /// not base64 (the caller then says so rather than printing something that looks like a key).
    public static func fingerprint(base64: String) -> String? {
        guard let raw = Data(base64Encoded: base64), !raw.isEmpty else { return nil }
        return ReportPublicKey(raw: raw).fingerprint
    }

    /// The `KEY.pub` file's text.
    public var fileText: String { "\(Self.prefix) \(base64)\n" }

    func isValidSignature(_ signature: Data, for data: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: data)
    }
}
