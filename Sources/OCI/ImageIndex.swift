/// An image index (OCI) or manifest list (Docker): one manifest per platform, plus possibly
/// attestation manifests that describe the others.
public struct ImageIndex: Codable, Sendable, Equatable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var artifactType: String?
    public var manifests: [Descriptor]
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(
        schemaVersion: Int = 2,
        mediaType: String? = MediaType.ociIndex,
        artifactType: String? = nil,
        manifests: [Descriptor],
        subject: Descriptor? = nil,
        annotations: [String: String]? = nil
    ) {
        self.schemaVersion = schemaVersion
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.manifests = manifests
        self.subject = subject
        self.annotations = annotations
    }

    /// The annotation BuildKit puts on attestation manifests, and its value there.
    public static let referenceTypeAnnotation = "vnd.docker.reference.type"
    public static let attestationManifestType = "attestation-manifest"

    /// Whether an index entry is an attestation (provenance, SBOM) rather than a runnable image.
    public static func isAttestation(_ entry: Descriptor) -> Bool {
        if entry.annotations?[referenceTypeAnnotation] == attestationManifestType {
            return true
        }
        if let platform = entry.platform, platform.os == "unknown", platform.architecture == "unknown" {
            return true
        }
        return false
    }

    /// Entries that are images for a real platform: not attestations, and with a platform.
    public var platformEntries: [Descriptor] {
        manifests.filter { $0.platform != nil && !ImageIndex.isAttestation($0) }
    }

    /// The platforms this index offers images for, in index order (attestations left out).
    public var platforms: [Platform] {
        platformEntries.compactMap(\.platform)
    }

    /// The entry for `platform`. Among several matches, one whose variant is spelled exactly as
    /// asked wins, else the first. Throws `platformNotFound` naming the platforms on offer.
    public func select(platform wanted: Platform) throws -> Descriptor {
        let candidates = platformEntries.filter { $0.platform?.matches(wanted) == true }
        if let exact = candidates.first(where: { $0.platform?.variant == wanted.variant }) {
            return exact
        }
        if let first = candidates.first {
            return first
        }
        var offered: [String] = []
        var seen: Set<String> = []
        for platform in platforms {
            let name = platform.osVersion.map { "\(platform) (os.version \($0))" } ?? platform.description
            if seen.insert(name).inserted { offered.append(name) }
        }
        let wantedName = wanted.osVersion.map { "\(wanted) (os.version \($0))" } ?? wanted.description
        if offered.isEmpty {
            throw OCIError(
                .platformNotFound,
                "the image index lists no platform images (only attestations or entries without a platform), so nothing matches \(wantedName); "
                    + "pull a single-platform manifest by digest instead"
            )
        }
        throw OCIError(
            .platformNotFound,
            "the image index has no manifest for \(wantedName); it has \(abbreviatedList(offered)). "
                + "Choose one of these with --platform OS/ARCH[/VARIANT]"
        )
    }
}
