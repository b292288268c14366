/// What `3tofu --version` prints: the release version and the commit the binary was built from.
/// `BuildCommit` is generated on every build by Plugins/BuildCommit.
public enum BuildInfo {
    /// The release version; reports record it as `tool.version`. `make deb` names the package by it.
    public static let version = "0.1.0"

    /// The full commit id, or nil when the sources were not a git checkout.
    public static let commit: String? = BuildCommit.commit

    /// True when tracked files differed from `commit` at build time.
    public static let modified: Bool = BuildCommit.modified

    /// `0.1.0 (commit 0123…cdef)`, `… (commit 0123…cdef, with uncommitted changes)`, or
    /// `0.1.0 (commit unknown: not built from a git checkout)`.
    public static var versionLine: String {
        describe(version: version, commit: commit, modified: modified)
    }

    static func describe(version: String, commit: String?, modified: Bool) -> String {
        guard let commit else { return "\(version) (commit unknown: not built from a git checkout)" }
        return "\(version) (commit \(commit)\(modified ? ", with uncommitted changes" : ""))"
    }
}
