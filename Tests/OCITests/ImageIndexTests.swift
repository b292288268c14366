import Foundation
import Testing
@testable import OCI

struct ImageIndexTests {
    static func index(_ json: String) throws -> ImageIndex {
        try JSONDecoder().decode(ImageIndex.self, from: Fixtures.data(json))
    }

    @Test(arguments: [
        ("linux/amd64", Fixtures.sha256("1")),
        ("linux/x86_64", Fixtures.sha256("1")),
        ("linux/arm64", Fixtures.sha256("2")),
        ("linux/arm64/v8", Fixtures.sha256("2")),
        ("linux/aarch64", Fixtures.sha256("2")),
    ])
    func selectsFromADockerHubIndexWithAttestations(platform: String, digest: String) throws {
        let index = try Self.index(Fixtures.dockerHubIndexWithAttestations)
        let selected = try index.select(platform: try Platform(parsing: platform))
        #expect(selected.digest.string == digest)
        #expect(selected.annotations == nil)
    }

    @Test func listsOnlyRealPlatforms() throws {
        let index = try Self.index(Fixtures.dockerHubIndexWithAttestations)
        #expect(index.platforms.map(\.description) == ["linux/amd64", "linux/arm64/v8"])
        #expect(index.manifests.count == 4)
        #expect(index.manifests.filter(ImageIndex.isAttestation).map(\.digest.string) == [Fixtures.sha256("3"), Fixtures.sha256("4")])
    }

    @Test(arguments: ["linux/riscv64", "linux/arm/v7", "windows/amd64", "unknown/unknown"])
    func namesTheOfferedPlatformsWhenNothingMatches(platform: String) throws {
        let index = try Self.index(Fixtures.dockerHubIndexWithAttestations)
        #expect {
            try index.select(platform: try Platform(parsing: platform))
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == .platformNotFound && error.message.contains("no manifest for \(platform)")
                && error.message.contains("it has linux/amd64, linux/arm64/v8.") && !error.message.contains("unknown/unknown,")
                && error.message.contains("--platform")
        }
    }

    @Test func attestationAnnotationAloneMarksAnEntry() throws {
        let digest = try Digest(parsing: Fixtures.sha256("9"))
        let index = ImageIndex(manifests: [
            Descriptor(
                mediaType: MediaType.ociManifest, digest: digest, size: 1,
                annotations: ["vnd.docker.reference.type": "attestation-manifest"],
                platform: Platform(os: "linux", architecture: "amd64")
            ),
        ])
        #expect(index.platforms.isEmpty)
        #expect {
            try index.select(platform: Platform(os: "linux", architecture: "amd64"))
        } throws: { error in
            (error as? OCIError)?.code == .platformNotFound && (error as? OCIError)?.message.contains("lists no platform images") == true
        }
    }

    @Test(arguments: [
        (Platform(os: "linux", architecture: "arm64"), Fixtures.sha256("5")),
        (Platform(os: "linux", architecture: "arm64", variant: "v8"), Fixtures.sha256("6")),
        (Platform(os: "linux", architecture: "aarch64", variant: "8"), Fixtures.sha256("5")),
    ])
    func prefersTheExactVariantSpellingAmongMatches(wanted: Platform, digest: String) throws {
        let index = ImageIndex(manifests: [
            Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: Fixtures.sha256("5")), size: 1, platform: Platform(os: "linux", architecture: "arm64")),
            Descriptor(
                mediaType: MediaType.ociManifest, digest: try Digest(parsing: Fixtures.sha256("6")), size: 1,
                platform: Platform(os: "linux", architecture: "arm64", variant: "v8")
            ),
        ])
        #expect(try index.select(platform: wanted).digest.string == digest)
    }

    @Test(arguments: [
        (Platform(os: "linux", architecture: "arm", variant: "v7"), Fixtures.sha256("c")),
        (Platform(os: "linux", architecture: "arm"), Fixtures.sha256("c")),
        (Platform(os: "linux", architecture: "arm", variant: "v5"), Fixtures.sha256("b")),
        (Platform(os: "windows", architecture: "amd64"), Fixtures.sha256("d")),
        (Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6659"), Fixtures.sha256("e")),
    ])
    func selectsFromADockerManifestList(wanted: Platform, digest: String) throws {
        let index = try Self.index(Fixtures.dockerManifestList)
        #expect(try index.select(platform: wanted).digest.string == digest)
    }

    @Test func listsWindowsVersionsWhenNothingMatches() throws {
        let index = try Self.index(Fixtures.dockerManifestList)
        #expect {
            try index.select(platform: Platform(os: "windows", architecture: "amd64", osVersion: "10.0.26100.1"))
        } throws: { error in
            (error as? OCIError)?.message.contains(
                "it has linux/amd64, linux/arm/v5, linux/arm/v7, windows/amd64 (os.version 10.0.20348.2966), windows/amd64 (os.version 10.0.17763.6659)."
            ) == true
        }
    }

    /// A 10,000-entry index without the wanted platform: the message lists a few and counts the
    /// rest (it was a 159 KB line, printed once per vantage).
    @Test func aHugeIndexIsListedInAFewWords() throws {
        let digest = try Digest(parsing: Fixtures.sha256("7"))
        let entries = (0..<10_000).map { number in
            Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: 1, platform: Platform(os: "plan9", architecture: "arch\(number)"))
        }
        let index = ImageIndex(manifests: entries)
        let error = #expect(throws: OCIError.self) { try index.select(platform: Platform(os: "linux", architecture: "amd64")) }
        let message = error?.message ?? ""
        #expect(message.utf8.count < 600, "\(message.utf8.count) bytes")
        #expect(message.contains("it has plan9/arch0, plan9/arch1, "), "\(message)")
        #expect(message.contains("plan9/arch7 and 9992 more."), "\(message)")
    }

    @Test(arguments: [
        ([String](), ""), (["a"], "a"), (["a", "b", "c"], "a, b, c"), (["a", "b", "c", "d"], "a, b, c and 1 more"), (["x\u{1b}[2J"], "x\\u{1b}[2J"),
    ])
    func listsAreAbbreviated(items: [String], shown: String) {
        #expect(abbreviatedList(items, limit: 3) == shown)
    }
}
