import Foundation
import Testing
@testable import OCI

struct DigestTests {
    @Test(arguments: [
        ("sha256:" + Fixtures.hex("0"), Digest.Algorithm.sha256),
        ("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", .sha256),
        ("sha512:" + Fixtures.hex("f", 128), .sha512),
    ])
    func parsesValidDigests(text: String, algorithm: Digest.Algorithm) throws {
        let digest = try Digest(parsing: text)
        #expect(digest.algorithm == algorithm)
        #expect(digest.string == text)
        #expect(digest.description == text)
        #expect(digest.encoded == String(text.split(separator: ":")[1]))
    }

    @Test(arguments: [
        ("md5:d41d8cd98f00b204e9800998ecf8427e", OCIError.Code.unsupportedDigestAlgorithm, "\"md5\""),
        ("blake3:" + Fixtures.hex("a"), .unsupportedDigestAlgorithm, "\"blake3\""),
        ("sha256:" + Fixtures.hex("A"), .invalidDigest, "lowercase"),
        ("sha256:" + Fixtures.hex("a", 63), .invalidDigest, "63 hex digits"),
        ("sha256:" + Fixtures.hex("a", 65), .invalidDigest, "exactly 64"),
        ("sha512:" + Fixtures.hex("a"), .invalidDigest, "exactly 128"),
        ("sha256:", .invalidDigest, "0 hex digits"),
        ("sha256:" + Fixtures.hex("g"), .invalidDigest, "other than lowercase hex"),
        (Fixtures.hex("a"), .invalidDigest, "has no ':'"),
        ("SHA256:" + Fixtures.hex("a"), .invalidDigest, "malformed algorithm"),
        (":" + Fixtures.hex("a"), .invalidDigest, "malformed algorithm"),
        ("sha256:" + Fixtures.hex("a", 63) + "\n", .invalidDigest, "other than lowercase hex"),
    ])
    func rejectsInvalidDigests(text: String, code: OCIError.Code, fragment: String) {
        #expect {
            try Digest(parsing: text)
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == code && error.message.contains(fragment)
        }
    }

    @Test func buildsFromParts() throws {
        let digest = try Digest(algorithm: .sha512, encoded: Fixtures.hex("1", 128))
        #expect(digest.string == "sha512:" + Fixtures.hex("1", 128))
        #expect(digest.short == "sha512:111111111111")
        #expect(throws: OCIError.self) { try Digest(algorithm: .sha256, encoded: Fixtures.hex("1", 128)) }
    }

    @Test func codesAsASingleString() throws {
        let digest = try Digest(parsing: Fixtures.sha256("a"))
        let encoded = try JSONEncoder().encode([digest])
        #expect(String(decoding: encoded, as: UTF8.self) == "[\"\(Fixtures.sha256("a"))\"]")
        #expect(try JSONDecoder().decode([Digest].self, from: encoded) == [digest])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Digest].self, from: Fixtures.data("[\"md5:00\"]")) }
    }

    @Test func ordersByString() throws {
        let digests = try [Fixtures.sha256("b"), "sha512:" + Fixtures.hex("0", 128), Fixtures.sha256("a")].map(Digest.init(parsing:))
        #expect(digests.sorted().map(\.string) == [Fixtures.sha256("a"), Fixtures.sha256("b"), "sha512:" + Fixtures.hex("0", 128)])
    }
}
