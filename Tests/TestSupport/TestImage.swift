import Foundation

/// Builds deterministic synthetic images (OCI or Docker schema2 media types, single- or
/// multi-platform with Docker-style attestations) as OCI layouts, and pushes them with skopeo.
public enum TestImage {
    /// Which family of media types manifests, configs and layers use.
    public enum MediaTypes: String, Sendable {
        case oci
        case docker
    }

    /// Layer file content: seeded hex text (gzip halves it) or seeded random bytes.
    public enum Content: String, Sendable {
        case compressible = "random"
        case incompressible
    }

    /// An image platform, written "os/architecture[/variant]".
    public struct Platform: Sendable, Hashable, CustomStringConvertible {
        public let os: String
        public let architecture: String
        public let variant: String?

        public init(os: String, architecture: String, variant: String? = nil) {
            self.os = os
            self.architecture = architecture
            self.variant = variant
        }

        public static let linuxAMD64 = Platform(os: "linux", architecture: "amd64")
        public static let linuxARM64v8 = Platform(os: "linux", architecture: "arm64", variant: "v8")

        public var description: String {
            [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
        }
    }

    /// A single image manifest, or an index (manifest list) of per-platform images, optionally
    /// with one attestation manifest per image (platform unknown/unknown).
    public enum Platforms: Sendable {
        case single(Platform)
        case index([Platform], attestations: Bool)

        /// linux/amd64 and linux/arm64/v8 with attestations.
        public static let multi = Platforms.index([.linuxAMD64, .linuxARM64v8], attestations: true)
    }

    /// What `push` sent and verified.
    public struct Pushed: Sendable {
        /// "127.0.0.1:PORT/REPOSITORY:TAG".
        public let reference: String
        /// "127.0.0.1:PORT/REPOSITORY@sha256:...".
        public let digestReference: String
        public let digest: String
    }

    /// Writes an OCI image layout at `dir` (created; must not already hold a layout).
    /// `layers` are the byte sizes of the one file in each layer (the tar adds headers).
    /// The same arguments always give the same digests; different `seed`s give different ones.
    public static func make(
        in dir: String,
        layers: [Int],
        content: Content = .compressible,
        mediaTypes: MediaTypes = .oci,
        platforms: Platforms = .single(.linuxAMD64),
        seed: Int = 1,
        gzipLevel: Int = 6,
        tag: String = "latest"
    ) throws -> TestImageLayout {
        if FileManager.default.fileExists(atPath: "\(dir)/index.json") {
            throw FixtureError("\(dir) already holds an image layout; pass a new directory to TestImage.make")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let list: [Platform]
        let index: Bool
        let attestations: Bool
        switch platforms {
        case .single(let platform):
            (list, index, attestations) = ([platform], false, false)
        case .index(let platforms, let withAttestations):
            guard !platforms.isEmpty else {
                throw FixtureError("TestImage.make was given an index with no platforms; give at least one")
            }
            (list, index, attestations) = (platforms, true, withAttestations)
        }
        let spec: [String: Any] = [
            "dir": dir,
            "layers": layers,
            "content": content.rawValue,
            "mediaTypes": mediaTypes.rawValue,
            "platforms": list.map { platform -> [String: String] in
                var entry = ["os": platform.os, "architecture": platform.architecture]
                if let variant = platform.variant { entry["variant"] = variant }
                return entry
            },
            "index": index,
            "attestations": attestations,
            "seed": seed,
            "gzipLevel": gzipLevel,
            "refName": tag,
        ]
        let specData = try JSONSerialization.data(withJSONObject: spec)
        let output = try Shell.runCapturing(["python3", TestImageGenerator.scriptPath], stdin: specData, timeout: .seconds(1800))
        guard output.status == 0 else {
            throw FixtureError("the image generator failed for \(dir) (status \(output.status)): \(output.stderr.suffix(4000))")
        }
        struct Summary: Decodable {
            let top: TestImageLayout.Descriptor
            let images: [TestImageLayout.Image]
            let attestations: [TestImageLayout.Attestation]
        }
        let summary: Summary
        do {
            summary = try JSONDecoder().decode(Summary.self, from: output.stdoutData)
        } catch {
            throw FixtureError("could not read the image generator's summary for \(dir): \(error); output: \(output.stdout.prefix(2000))")
        }
        return TestImageLayout(layoutPath: dir, top: summary.top, images: summary.images, attestations: summary.attestations)
    }

    /// Copies the layout, every platform and attestation included, to `registry` as
    /// REPOSITORY:TAG with `skopeo copy --all --preserve-digests`, then checks that the registry
    /// serves exactly the layout's top manifest bytes for the tag.
    @discardableResult
    public static func push(
        _ layout: TestImageLayout,
        to registry: RegistryServer,
        repository: String,
        tag: String
    ) throws -> Pushed {
        let reference = "\(registry.host)/\(repository):\(tag)"
        try Shell.check(
            ["skopeo", "copy", "--insecure-policy", "--all", "--preserve-digests", "--retry-times", "2"]
                + (try registry.skopeoOptions(prefix: "dest"))
                + ["oci:\(layout.layoutPath)", "docker://\(reference)"],
            timeout: .seconds(1800)
        )
        let raw = try Shell.runCapturing(
            ["skopeo", "inspect", "--raw"] + (try registry.skopeoOptions(prefix: "")) + ["docker://\(reference)"]
        )
        guard raw.status == 0 else {
            throw FixtureError("skopeo inspect --raw docker://\(reference) failed after the push: \(raw.stderr.suffix(2000))")
        }
        let digest = "sha256:" + (try Shell.sha256Hex(raw.stdoutData))
        guard digest == layout.topDigest else {
            throw FixtureError(
                "the registry serves \(reference) as \(digest), but the layout's top manifest is \(layout.topDigest); skopeo changed the manifest"
            )
        }
        return Pushed(reference: reference, digestReference: "\(registry.host)/\(repository)@\(digest)", digest: digest)
    }
}
