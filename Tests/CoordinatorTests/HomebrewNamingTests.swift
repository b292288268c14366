import Coordinator
import Testing

/// Homebrew's naming conventions, checksum files and Brewfiles: pure tables.
struct HomebrewNamingTests {
    @Test(arguments: [
        ("wget", "1.25.0", 0, 0, "arm64_sequoia", "wget", "1.25.0", "1.25.0.arm64_sequoia", "wget--1.25.0.arm64_sequoia.bottle.tar.gz"),
        ("openssl@3", "3.3.1", 0, 1, "sonoma", "openssl/3", "3.3.1-1", "3.3.1.sonoma.1", "openssl@3--3.3.1.sonoma.bottle.1.tar.gz"),
        ("libxml++", "5.2", 2, 0, "x86_64_linux", "libxmlxx", "5.2_2", "5.2_2.x86_64_linux", "libxml++--5.2_2.x86_64_linux.bottle.tar.gz"),
        ("jq", "1.7.1", 1, 3, "all", "jq", "1.7.1_1-3", "1.7.1_1.all.3", "jq--1.7.1_1.all.bottle.3.tar.gz"),
    ])
    func names(
        formula: String, version: String, revision: Int, rebuild: Int, tag: String, image: String, imageTag: String, refName: String, file: String
    ) {
        let package = HomebrewNaming.packageVersion(version, revision: revision)
        #expect(HomebrewNaming.imageName(formula) == image)
        #expect(HomebrewNaming.imageTag(packageVersion: package, rebuild: rebuild) == imageTag)
        #expect(HomebrewNaming.referenceName(packageVersion: package, tag: tag, rebuild: rebuild) == refName)
        #expect(HomebrewNaming.bottleFileName(formula: formula, packageVersion: package, tag: tag, rebuild: rebuild) == file)
    }

    @Test(arguments: [
        ("arm64_sonoma", "darwin", "arm64", "macOS 14"), ("sequoia", "darwin", "amd64", "macOS 15"),
        ("x86_64_linux", "linux", "amd64", nil), ("arm64_linux", "linux", "arm64", nil),
    ] as [(String, String, String, String?)])
    func platforms(tag: String, os: String, architecture: String, osVersion: String?) throws {
        let platform = try #require(HomebrewNaming.platform(forTag: tag))
        #expect(platform.os == os && platform.architecture == architecture && platform.osVersion == osVersion)
    }

    @Test func unknownTagsHaveNoPlatform() {
        #expect(HomebrewNaming.platform(forTag: "all") == nil)
        #expect(HomebrewNaming.platform(forTag: "arm64_nosuch") == nil)
    }

    @Test(arguments: ["../etc", ".hidden", "a/b", "", "x y"])
    func unsafeNamesAreRefused(name: String) {
        #expect(!HomebrewNaming.isSafeName(name))
    }

    @Test func checksumFilesInBothStyles() {
        let hex = String(repeating: "ab", count: 32)
        let other = String(repeating: "cd", count: 32)
        let text = "# comment\n\(other)  other.zip\n\(hex.uppercased()) *dist/tool.tar.gz\nSHA256 (bsd.tgz) = \(other)\nnot a line\n"
        #expect(ChecksumFile.sha256(for: "tool.tar.gz", in: text) == hex)
        #expect(ChecksumFile.sha256(for: "bsd.tgz", in: text) == other)
        #expect(ChecksumFile.sha256(for: "missing", in: text) == nil)
        #expect(ChecksumFile.sha256(for: "dup", in: "\(hex)  dup\n\(other)  dup\n") == nil)
        #expect(ChecksumFile.fileName(of: "https://example.org/dl/tool%201.tar.gz?x=1") == "tool 1.tar.gz")
    }

    @Test func brewfileFormulae() {
        let text = """
            tap "homebrew/bundle"
            brew "wget"
            brew 'openssl@3', link: true  # pinned
            # brew "commented"
            cask "firefox"
            brew "homebrew/core/jq"
            brew "wget"
            """
        #expect(Brewfile.formulae(in: text) == ["wget", "openssl@3", "jq"])
    }
}
