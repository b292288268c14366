import Crypto
import Foundation

/// An Ed25519 private key for signing reports (`3tofu keygen`, `--sign-key`). On disk it is the
/// raw 32-byte seed in base64 between `-----BEGIN 3TOFU ED25519 PRIVATE KEY-----` and
/// `-----END 3TOFU ED25519 PRIVATE KEY-----` lines (docs/REPORT-SIGNING.md).
public struct ReportSigningKey: Sendable {
    static let begin = "-----BEGIN 3TOFU ED25519 PRIVATE KEY-----"
    static let end = "-----END 3TOFU ED25519 PRIVATE KEY-----"

    /// The raw 32-byte seed (kept as bytes: swift-crypto's key types are not `Sendable`).
    let seed: Data
    public let publicKey: ReportPublicKey

    /// A new random key.
    public init() {
        let key = Curve25519.Signing.PrivateKey()
        seed = key.rawRepresentation
        publicKey = ReportPublicKey(raw: key.publicKey.rawRepresentation)
    }

    /// Reads the key file text; throws `ReportError` naming `source` when it is not a 3tofu private key.
    public init(text: String, source: String = "the key") throws {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.firstIndex(of: Self.begin), let last = lines.lastIndex(of: Self.end), first < last else {
            throw ReportError("\(source) is not a 3tofu private key (no \(Self.begin) line); create one with `3tofu keygen --output FILE`")
        }
        let body = lines[(first + 1)..<last].joined()
        guard let seed = Data(base64Encoded: body), seed.count == 32 else {
            throw ReportError("\(source) holds a damaged 3tofu private key (the base64 between the BEGIN and END lines is not 32 bytes); create a new one with `3tofu keygen`")
        }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw ReportError("\(source) holds an unusable Ed25519 key; create a new one with `3tofu keygen`")
        }
        self.seed = seed
        publicKey = ReportPublicKey(raw: key.publicKey.rawRepresentation)
    }

    /// Reads a private key file written by `3tofu keygen`.
    public static func load(path: String) throws -> ReportSigningKey {
        let data: Data
        do {
            data = try BoundedFile.readWhole(path, what: "the signing key", limit: 64 << 10)
        } catch let error as ReportError {
            throw ReportError("\(error.message); check the path, or create a key with `3tofu keygen --output \(path)`")
        }
        return try ReportSigningKey(text: String(decoding: data, as: UTF8.self), source: path)
    }

    /// The private key file's text.
    public var fileText: String {
        "\(Self.begin)\n\(seed.base64EncodedString())\n\(Self.end)\n"
    }

    func signature(for data: Data) throws -> Data {
        try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: data)
    }
}
