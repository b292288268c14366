import Foundation
import Testing
@testable import OCI

struct PlatformTests {
    @Test(arguments: [
        ("linux/amd64", Platform(os: "linux", architecture: "amd64")),
        ("linux/arm64/v8", Platform(os: "linux", architecture: "arm64", variant: "v8")),
        ("linux/arm/v7", Platform(os: "linux", architecture: "arm", variant: "v7")),
        ("windows/amd64", Platform(os: "windows", architecture: "amd64")),
        ("linux/ppc64le", Platform(os: "linux", architecture: "ppc64le")),
    ])
    func parses(text: String, expected: Platform) throws {
        let platform = try Platform(parsing: text)
        #expect(platform == expected)
        #expect(platform.description == text)
    }

    @Test(arguments: ["", "linux", "linux/", "/amd64", "linux/arm/v7/extra", "linux amd64", "linux/amd64/", "linux/ämd64"])
    func rejectsMalformedPlatforms(text: String) {
        #expect {
            try Platform(parsing: text)
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == .invalidPlatform && error.message.contains("OS/ARCH[/VARIANT]")
        }
    }

    @Test(arguments: [
        ("linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/aarch64", "linux/arm64/v8"),
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm64/8", "linux/arm64/v8"),
        ("linux/arm64/v9.0", "linux/arm64/v9"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/6", "linux/arm/v6"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/i686", "linux/386"),
        ("Linux/AMD64", "linux/amd64"),
        ("macos/arm64", "darwin/arm64/v8"),
        ("linux/riscv64", "linux/riscv64"),
    ])
    func normalizes(text: String, expected: String) throws {
        #expect(try Platform(parsing: text).normalized.description == expected)
    }

    @Test(arguments: [
        (Platform(os: "linux", architecture: "arm64", variant: "v8"), Platform(os: "linux", architecture: "arm64"), true),
        (Platform(os: "linux", architecture: "arm64"), Platform(os: "linux", architecture: "arm64", variant: "v8"), true),
        (Platform(os: "linux", architecture: "amd64"), Platform(os: "linux", architecture: "x86_64"), true),
        (Platform(os: "linux", architecture: "arm", variant: "v7"), Platform(os: "linux", architecture: "arm"), true),
        (Platform(os: "linux", architecture: "arm", variant: "v7"), Platform(os: "linux", architecture: "armhf"), true),
        (Platform(os: "linux", architecture: "arm", variant: "v6"), Platform(os: "linux", architecture: "arm", variant: "v7"), false),
        (Platform(os: "linux", architecture: "arm64"), Platform(os: "linux", architecture: "amd64"), false),
        (Platform(os: "windows", architecture: "amd64"), Platform(os: "linux", architecture: "amd64"), false),
        (Platform(os: "linux", architecture: "amd64", variant: "v3"), Platform(os: "linux", architecture: "amd64"), false),
        (Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6659"), Platform(os: "windows", architecture: "amd64"), true),
        (
            Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6659"),
            Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6659"), true
        ),
        (
            Platform(os: "windows", architecture: "amd64", osVersion: "10.0.20348.2966"),
            Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6659"), false
        ),
        (Platform(os: "windows", architecture: "amd64"), Platform(os: "windows", architecture: "amd64", osVersion: "10.0.17763.6659"), false),
    ])
    func matches(have: Platform, wanted: Platform, expected: Bool) {
        #expect(have.matches(wanted) == expected)
    }

    @Test func hostIsTheCompiledArchitecture() {
        #if arch(x86_64)
        #expect(Platform.host.description == "linux/amd64")
        #elseif arch(arm64)
        #expect(Platform.host.description == "linux/arm64/v8")
        #else
        #expect(Platform.host.os == "linux")
        #endif
    }

    @Test func usesTheSpecJSONKeys() throws {
        let json = #"{"architecture":"amd64","os":"windows","os.features":["win32k"],"os.version":"10.0.17763.6659","variant":"v2"}"#
        let platform = try JSONDecoder().decode(Platform.self, from: Fixtures.data(json))
        #expect(platform == Platform(os: "windows", architecture: "amd64", variant: "v2", osVersion: "10.0.17763.6659", osFeatures: ["win32k"]))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let encoded = String(decoding: try encoder.encode(platform), as: UTF8.self)
        #expect(encoded == json)
        let minimal = try encoder.encode(Platform(os: "linux", architecture: "amd64"))
        #expect(String(decoding: minimal, as: UTF8.self) == #"{"architecture":"amd64","os":"linux"}"#)
    }
}
