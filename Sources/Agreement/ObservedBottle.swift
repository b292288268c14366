/// What one vantage saw of a Homebrew bottle (`3tofu bottle`): the formula API's word, the
/// registry's index annotation and the layer digest, which must all name the same bytes.
public struct ObservedBottle: Sendable, Equatable, Codable, Observable {
    /// The formula name as Homebrew spells it, e.g. "wget" or "openssl@3".
    public var formula: String
    /// The package version: `versions.stable`, with `_REVISION` when the revision is above 0.
    public var version: String
    public var rebuild: Int
    /// The bottle tag, e.g. "arm64_sonoma".
    public var tag: String
    /// The version the formula API lists (package version), whether or not it was the one verified.
    public var apiVersion: String?
    /// `bottle.stable.files.<tag>.sha256` from the formula API, as "sha256:<hex>"; nil when the API
    /// check was skipped (an older @VERSION than the API lists).
    public var apiSHA256: String?
    /// Digest of the OCI index for the version tag on the registry.
    public var indexDigest: String
    /// Digest of the index entry (platform manifest) for the bottle tag.
    public var manifestDigest: String
    /// The index entry's `sh.brew.bottle.digest` annotation, as "sha256:<hex>".
    public var annotationDigest: String
    /// The index entry's platform, e.g. "darwin/arm64 (macOS 14)".
    public var platform: String?
    /// The platform manifest's layer: the bottle itself.
    public var layerDigest: String
    public var layerSize: Int64

    public init(
        formula: String, version: String, rebuild: Int, tag: String, apiVersion: String? = nil, apiSHA256: String?, indexDigest: String,
        manifestDigest: String, annotationDigest: String, platform: String? = nil, layerDigest: String, layerSize: Int64
    ) {
        self.formula = formula
        self.version = version
        self.rebuild = rebuild
        self.tag = tag
        self.apiVersion = apiVersion
        self.apiSHA256 = apiSHA256
        self.indexDigest = indexDigest
        self.manifestDigest = manifestDigest
        self.annotationDigest = annotationDigest
        self.platform = platform
        self.layerDigest = layerDigest
        self.layerSize = layerSize
    }

    /// Where this vantage's sources contradict each other (API sha256, annotation, layer digest);
    /// nil when they all name the same bytes. A contradiction within one vantage is dissent.
    public var inconsistency: String? {
        var problems: [String] = []
        if annotationDigest != layerDigest {
            problems.append("the index annotation sh.brew.bottle.digest says \(annotationDigest) but the manifest's layer is \(layerDigest)")
        }
        if let apiSHA256, apiSHA256 != layerDigest {
            problems.append("the formula API says \(apiSHA256) but the registry's layer is \(layerDigest)")
        }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    public var comparedItems: [(item: String, value: String)] {
        var items: [(String, String)] = [
            ("layer", "\(layerDigest) (\(layerSize) bytes)"),
            ("version", "\(formula) \(version) rebuild \(rebuild)"),
            ("index", indexDigest),
            ("manifest", manifestDigest),
            ("annotation digest", annotationDigest),
        ]
        if let platform { items.append(("platform", platform)) }
        if let apiVersion { items.append(("formula API version", apiVersion)) }
        if let apiSHA256 { items.append(("formula API sha256", apiSHA256)) }
        return items
    }
}
