/// What one vantage saw of a Homebrew bottle (`3tofu bottle`): the formula API's word, the
/// registry's index annotation and the layer digest, which must all name the same bytes.
public struct ObservedBottle: Sendable, Equatable, Codable, Observable {
    public var formula: String
    public var version: String
    public var rebuild: Int
    public var tag: String
    /// `bottle.stable.files.<tag>.sha256` from the formula API, as "sha256:<hex>"; nil when the API
    /// check was skipped (an older @VERSION than the API lists).
    public var apiSHA256: String?
    /// Digest of the OCI index for the version tag on the registry.
    public var indexDigest: String
    /// Digest of the index entry (platform manifest) for the bottle tag.
    public var manifestDigest: String
    /// The index entry's `sh.brew.bottle.digest` annotation.
    public var annotationDigest: String
    /// The platform manifest's layer: the bottle itself.
    public var layerDigest: String
    public var layerSize: Int64

    public init(
        formula: String, version: String, rebuild: Int, tag: String, apiSHA256: String?, indexDigest: String, manifestDigest: String,
        annotationDigest: String, layerDigest: String, layerSize: Int64
    ) {
        self.formula = formula
        self.version = version
        self.rebuild = rebuild
        self.tag = tag
        self.apiSHA256 = apiSHA256
        self.indexDigest = indexDigest
        self.manifestDigest = manifestDigest
        self.annotationDigest = annotationDigest
        self.layerDigest = layerDigest
        self.layerSize = layerSize
    }

    public var comparedItems: [(item: String, value: String)] {
        var items: [(String, String)] = [
            ("version", "\(version) rebuild \(rebuild)"),
            ("index", indexDigest),
            ("manifest", manifestDigest),
            ("annotation digest", annotationDigest),
            ("layer", "\(layerDigest) (\(layerSize) bytes)"),
        ]
        if let apiSHA256 { items.append(("formula API sha256", apiSHA256)) }
        return items
    }
}
