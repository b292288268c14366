/// What one vantage saw of a plain file (`3tofu fetch`): where it ended up and what it hashed to.
public struct ObservedFile: Sendable, Equatable, Codable, Observable {
    /// The URL asked for.
    public var url: String
    /// The URL that finally answered, after redirects (query strings removed).
    public var finalURL: String
    /// "sha256:<hex>" of the bytes this vantage received.
    public var sha256: String
    public var size: Int64
    /// With `--checksums URL`: the checksum that file publishes for this file, as this vantage read it.
    public var publishedSHA256: String?

    public init(url: String, finalURL: String, sha256: String, size: Int64, publishedSHA256: String? = nil) {
        self.url = url
        self.finalURL = finalURL
        self.sha256 = sha256
        self.size = size
        self.publishedSHA256 = publishedSHA256
    }

    /// Where the published checksum contradicts the bytes this vantage received; nil when it
    /// matches or none was asked for. A contradiction within one vantage is dissent.
    public var inconsistency: String? {
        guard let publishedSHA256, publishedSHA256 != sha256 else { return nil }
        return "the checksum file publishes \(publishedSHA256) but the file received hashes to \(sha256)"
    }

    public var comparedItems: [(item: String, value: String)] {
        var items: [(String, String)] = [("sha256", sha256), ("size", String(size))]
        if let publishedSHA256 { items.append(("published sha256", publishedSHA256)) }
        return items
    }
}
