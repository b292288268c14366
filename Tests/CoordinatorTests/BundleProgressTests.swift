@testable import Coordinator
import OCI
import Testing

/// How a bundle's progress names its images: short, and never two the same.
@Suite struct BundleProgressTests {
    @Test func labelsAreShortAndDistinct() throws {
        let references = try [
            "registry.example:5000/team/web:1.0", "docker.io/library/alpine", "other.example/team/web:1.0",
            "ghcr.io/tools/cli@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ].map(ImageReference.init(parsing:))
        #expect(BundleCoordinator.progressLabels(references) == ["web:1.0", "alpine:latest", "web:1.0#2", "cli@sha256:0123456789ab"])
    }
}
