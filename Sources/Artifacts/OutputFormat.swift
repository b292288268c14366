import Foundation

/// The shapes `3tofu pull` can write an image in; raw values are the `--format` arguments.
public enum OutputFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// A tar for `docker load` / `podman load` (Docker 25 layout, which is also an OCI archive).
    case dockerArchive = "docker-archive"
    /// An OCI image layout directory (skopeo `oci:`, umoci).
    case oci
    /// An OCI image layout as a tar (skopeo `oci-archive:`).
    case ociArchive = "oci-archive"

    /// Accepts exactly the raw values, ignoring case and surrounding spaces.
    public init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        self.init(rawValue: text.lowercased())
    }

    public var description: String { rawValue }

    /// All formats as `docker-archive|oci|oci-archive`, for help text and error messages.
    public static var choices: String {
        allCases.map(\.rawValue).joined(separator: "|")
    }
}
