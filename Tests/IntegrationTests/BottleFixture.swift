import Foundation
import TestSupport

/// A Homebrew in miniature on loopback: the lab's registry (with the direct, HTTP-proxy and SOCKS
/// vantages) holding bottle images built by examples/make-bottle-image.py and pushed with skopeo,
/// and a formula API served by nginx.
final class BottleFixture: Sendable {
    let lab: Lab
    let api: NginxServer
    let apiRoot: String
    static let prefix = "homebrew/core"

    /// What the generator built: the image tag, index digest, and per bottle tag its digests and file name.
    struct Built: Decodable, Sendable {
        struct Tag: Decodable, Sendable {
            var layer: String
            var size: Int
            var manifest: String
            var refName: String
            var filename: String
            var annotation: String
        }
        var imageTag: String
        var index: String
        var repository: String
        var tags: [String: Tag]
    }

    init() async throws {
        lab = try await Lab()
        apiRoot = lab.home.file("api-root")
        try FileManager.default.createDirectory(atPath: apiRoot + "/api/formula", withIntermediateDirectories: true)
        api = try await NginxServer(root: apiRoot)
    }

    var formulaAPI: String { api.baseURL + "/api/formula" }
    var registryArgument: String { "\(lab.registry.host)/\(Self.prefix)" }

    static var generator: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/make-bottle-image.py").path
    }

    /// Builds a bottle image (and, with `writeAPI`, the formula API document) and pushes it as
    /// `homebrew/core/<formula image>:<pushTag ?? image tag>`.
    @discardableResult
    func publish(
        _ formula: String, version: String, revision: Int = 0, rebuild: Int = 0, tags: [String] = ["arm64_sonoma", "sonoma", "x86_64_linux"],
        seed: String = "1", badAnnotation: String? = nil, writeAPI: Bool = true, push: Bool = true, pushTag: String? = nil
    ) throws -> Built {
        let layout = lab.home.file("bottle-layout-\(UUID().uuidString.prefix(8))")
        var arguments = [
            "python3", Self.generator, "--layout", layout, "--formula", formula, "--version", version, "--revision", String(revision),
            "--rebuild", String(rebuild), "--tags", tags.joined(separator: ","), "--seed", seed,
            "--root-url", "http://\(lab.registry.host)/v2/\(Self.prefix)",
        ]
        if let badAnnotation { arguments += ["--bad-annotation", badAnnotation] }
        if writeAPI { arguments += ["--api-dir", apiRoot + "/api/formula"] }
        let built = try JSONDecoder().decode(Built.self, from: Data(try Shell.check(arguments).utf8))
        if push {
            let destination = "docker://\(lab.registry.host)/\(Self.prefix)/\(built.repository):\(pushTag ?? built.imageTag)"
            _ = try Shell.check(["skopeo", "copy", "--all", "--preserve-digests", "--quiet"] + (try lab.registry.skopeoOptions(prefix: "dest"))
                + ["oci:\(layout):\(built.imageTag)", destination])
        }
        return built
    }

    /// `3tofu bottle` against this fixture with `vantages` and any extra arguments.
    func bottle(_ formulae: [String], tag: String, output: String, vantages: String, _ extra: [String] = []) throws -> ThreeTofuCLI.Result {
        try lab.run(
            ["bottle"] + formulae + [
                "--tag", tag, "--output", output, "--registry", registryArgument, "--formula-api", formulaAPI,
                "--vantages", vantages, "--insecure-registry", lab.registry.host,
            ] + extra)
    }

    func stop() {
        api.stop()
        lab.stop()
    }
}

/// A vantage entry for a vantages file, through `proxy`.
func proxyVantageTOML(_ name: String, proxy: String) -> String {
    "\n[[vantage]]\nname = \"\(name)\"\nkind = \"proxy\"\nproxy = \"\(proxy)\"\n"
}

/// The hex SHA-256 of a file, as sha256sum prints it.
func sha256sum(_ path: String) throws -> String {
    let line = try Shell.check(["sha256sum", path])
    guard let hex = line.split(separator: " ").first, hex.count == 64 else {
        throw FixtureError("sha256sum printed an unexpected line: \(line)")
    }
    return String(hex)
}
