import Foundation

/// Pure Homebrew conventions, as brew itself spells them (Library/Homebrew/github_packages.rb and
/// Bottle::Filename): registry image names and tags, index reference names, bottle file names,
/// and the platform a bottle tag stands for.
public enum HomebrewNaming {
    /// The registry image for a formula: `openssl@3` → `openssl/3`, `libxml++` → `libxmlxx`.
    public static func imageName(_ formula: String) -> String {
        formula.replacingOccurrences(of: "@", with: "/").replacingOccurrences(of: "+", with: "x").lowercased()
    }

    /// `VERSION` or `VERSION_REVISION` (brew's pkg_version).
    public static func packageVersion(_ version: String, revision: Int) -> String {
        revision > 0 ? "\(version)_\(revision)" : version
    }

    /// The image tag holding a version's index: `PKGVERSION`, or `PKGVERSION-REBUILD` when rebuilt;
    /// characters an OCI tag may not hold become '.'.
    public static func imageTag(packageVersion: String, rebuild: Int) -> String {
        let raw = rebuild > 0 ? "\(packageVersion)-\(rebuild)" : packageVersion
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        return String(raw.map { allowed.contains($0) ? $0 : "." })
    }

    /// The index entry's `org.opencontainers.image.ref.name` for a bottle tag: `PKGVERSION.TAG[.REBUILD]`.
    public static func referenceName(packageVersion: String, tag: String, rebuild: Int) -> String {
        "\(packageVersion).\(tag)" + (rebuild > 0 ? ".\(rebuild)" : "")
    }

    /// The file `brew install ./…` and Homebrew's cache expect: `FORMULA--PKGVERSION.TAG.bottle[.REBUILD].tar.gz`.
    public static func bottleFileName(formula: String, packageVersion: String, tag: String, rebuild: Int) -> String {
        "\(formula)--\(packageVersion).\(tag).bottle" + (rebuild > 0 ? ".\(rebuild)" : "") + ".tar.gz"
    }

    /// Whether a formula name or version is safe as part of a file name (brew's Utils.safe_filename?
    /// plus no path tricks).
    public static func isSafeName(_ text: String) -> Bool {
        !text.isEmpty && text != "." && text != ".." && !text.hasPrefix(".")
            && text.unicodeScalars.allSatisfy { scalar in
                CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "@+._-,".unicodeScalars.contains(scalar)
            }
    }

    /// macOS release names in bottle tags and their versions, newest first.
    public static let macOSVersions: [(name: String, version: String)] = [
        ("tahoe", "26"), ("sequoia", "15"), ("sonoma", "14"), ("ventura", "13"), ("monterey", "12"), ("big_sur", "11"),
        ("catalina", "10.15"), ("mojave", "10.14"), ("high_sierra", "10.13"), ("sierra", "10.12"), ("el_capitan", "10.11"),
    ]

    /// What a bottle tag stands for: OS, architecture and, for macOS, "macOS N" as the index's
    /// `os.version` says it. nil for `all` and for tags this table does not know.
    public static func platform(forTag tag: String) -> (os: String, architecture: String, osVersion: String?)? {
        switch tag {
        case "x86_64_linux": return ("linux", "amd64", nil)
        case "arm64_linux", "aarch64_linux": return ("linux", "arm64", nil)
        default: break
        }
        var name = Substring(tag)
        var architecture = "amd64"
        if name.hasPrefix("arm64_") {
            architecture = "arm64"
            name = name.dropFirst(6)
        }
        guard let release = macOSVersions.first(where: { $0.name == name }) else { return nil }
        return ("darwin", architecture, "macOS \(release.version)")
    }
}
