/// The operating system and CPU an image manifest is built for, as listed in an image index
/// and as asked for with `--platform OS/ARCH[/VARIANT]`.
public struct Platform: Hashable, Sendable, Codable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]?

    enum CodingKeys: String, CodingKey {
        case os
        case architecture
        case variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil, osVersion: String? = nil, osFeatures: [String]? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
        self.osVersion = osVersion
        self.osFeatures = osFeatures
    }

    /// Parses `os/arch` or `os/arch/variant`, e.g. `linux/amd64` or `linux/arm64/v8`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let isValidPart: (Substring) -> Bool = { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "._-".utf8.contains(byte)
            }
        }
        guard (2...3).contains(parts.count), parts.allSatisfy(isValidPart) else {
            throw OCIError(
                .invalidPlatform,
                "platform \(quoted(text)) is not in the form OS/ARCH[/VARIANT] (letters, digits, '.', '_', '-'); for example linux/amd64 or linux/arm64/v8"
            )
        }
        self.init(os: String(parts[0]), architecture: String(parts[1]), variant: parts.count == 3 ? String(parts[2]) : nil)
    }

    /// The same platform in canonical spelling, so equivalent spellings compare equal:
    /// `x86_64` → `amd64`, `aarch64` → `arm64`, `arm64` → `arm64/v8`, `arm` → `arm/v7`,
    /// `armhf` → `arm/v7`, `armel` → `arm/v6`, `i686` → `386`, `macos` → `darwin`, all lowercase.
    public var normalized: Platform {
        var os = self.os.lowercased()
        if os == "macos" { os = "darwin" }
        var architecture = self.architecture.lowercased()
        var variant = self.variant?.lowercased()
        if variant?.isEmpty == true { variant = nil }
        let numbered: (String?) -> String? = { variant in
            guard let variant else { return nil }
            return variant.first?.isNumber == true ? "v" + variant : variant
        }
        switch architecture {
        case "x86_64", "x86-64", "amd64":
            architecture = "amd64"
            if variant == "v1" { variant = nil }
        case "i386", "i486", "i586", "i686", "x86", "386":
            architecture = "386"
        case "aarch64", "arm64":
            architecture = "arm64"
            switch variant {
            case nil, "8", "v8", "v8.0": variant = "v8"
            case "9", "9.0", "v9.0": variant = "v9"
            default: variant = numbered(variant)
            }
        case "armhf":
            architecture = "arm"
            variant = "v7"
        case "armel":
            architecture = "arm"
            variant = "v6"
        case "arm":
            variant = numbered(variant) ?? "v7"
        default:
            break
        }
        return Platform(os: os, architecture: architecture, variant: variant, osVersion: osVersion, osFeatures: osFeatures)
    }

    /// Whether an image for this platform serves `wanted`: normalised OS, architecture and variant are
    /// equal, and the OS version is equal when `wanted` names one.
    public func matches(_ wanted: Platform) -> Bool {
        let have = normalized
        let want = wanted.normalized
        guard have.os == want.os, have.architecture == want.architecture, have.variant == want.variant else {
            return false
        }
        if let version = wanted.osVersion {
            return osVersion == version
        }
        return true
    }

    /// The Linux platform matching the CPU this program was compiled for.
    public static var host: Platform {
        #if arch(x86_64)
        Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        Platform(os: "linux", architecture: "arm64", variant: "v8")
        #elseif arch(arm)
        Platform(os: "linux", architecture: "arm", variant: "v7")
        #elseif arch(i386)
        Platform(os: "linux", architecture: "386")
        #elseif arch(s390x)
        Platform(os: "linux", architecture: "s390x")
        #elseif arch(powerpc64le)
        Platform(os: "linux", architecture: "ppc64le")
        #elseif arch(riscv64)
        Platform(os: "linux", architecture: "riscv64")
        #else
        Platform(os: "linux", architecture: "amd64")
        #endif
    }

    /// `os/arch` or `os/arch/variant`, e.g. `linux/arm64/v8`.
    public var description: String {
        if let variant, !variant.isEmpty {
            return "\(os)/\(architecture)/\(variant)"
        }
        return "\(os)/\(architecture)"
    }
}
