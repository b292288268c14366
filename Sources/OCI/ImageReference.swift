/// A fully normalised image reference, `registry/repository[:tag][@digest]`, parsed with the
/// distribution/reference grammar and Docker's defaults (`hitch` → `registry-1.docker.io/library/hitch:latest`).
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// `host[:port]`; Docker Hub in all its spellings is `registry-1.docker.io`.
    public private(set) var registry: String
    /// Lowercase path such as `library/hitch` or `homebrew/core/wget`.
    public private(set) var repository: String
    /// The tag; `latest` when neither a tag nor a digest was given, nil for digest-only references.
    public private(set) var tag: String?
    public private(set) var digest: Digest?

    public static let dockerHubRegistry = "registry-1.docker.io"
    static let dockerHubAliases: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]
    static let maximumNameLength = 255
    static let maximumTagLength = 128

    /// Parses `[host[:port]/]path[:tag][@digest]`.
    public init(parsing input: String) throws {
        let fail = { (why: String) in OCIError(.invalidReference, "invalid image reference \(quoted(input)): \(why)") }
        guard !input.isEmpty else {
            throw OCIError(
                .invalidReference,
                "the image reference is empty; give one such as `hitch`, `ghcr.io/owner/name:tag` or `name@sha256:<64 hex digits>`"
            )
        }
        if input.contains("://") {
            throw fail("drop the scheme; write HOST[:PORT]/PATH[:TAG][@DIGEST], for example ghcr.io/owner/name:tag")
        }
        if input.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            throw fail("it contains whitespace or control characters")
        }

        var rest = Substring(input)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            let digestText = rest[rest.index(after: at)...]
            rest = rest[..<at]
            guard !digestText.isEmpty else {
                throw fail("nothing follows '@'; a digest looks like sha256:<64 lowercase hex digits>")
            }
            do {
                digest = try Digest(parsing: String(digestText))
            } catch let error as OCIError {
                throw OCIError(error.code, "invalid image reference \(quoted(input)): \(error.message)")
            }
        }

        var tag: String?
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tagText = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            if let problem = ImageReference.tagProblem(tagText) {
                throw fail(problem)
            }
            tag = tagText
        }

        guard !rest.isEmpty else {
            throw fail("the repository name is missing; the form is [HOST[:PORT]/]PATH[:TAG][@DIGEST]")
        }
        // The exact limit applies to the normalised name below; this only stops absurd input early.
        guard rest.utf8.count <= 4 * ImageReference.maximumNameLength else {
            throw fail("the name is \(rest.utf8.count) characters long; at most \(ImageReference.maximumNameLength) are allowed")
        }

        var domain: Substring?
        var path = rest
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first {
                domain = first
                path = rest[rest.index(after: slash)...]
            }
        }
        if let domain, let problem = ImageReference.domainProblem(domain) {
            throw fail(problem)
        }
        if let problem = ImageReference.pathProblem(path) {
            throw fail(problem)
        }
        if domain == nil, tag == nil, digest == nil, path.utf8.count == 64, path.utf8.allSatisfy(isLowercaseHexDigit) {
            throw fail("this looks like an image ID, not a name; to pin content use NAME@sha256:<64 hex digits>")
        }

        var registry = domain.map(String.init) ?? ImageReference.dockerHubRegistry
        var repository = String(path)
        if ImageReference.dockerHubAliases.contains(registry) {
            registry = ImageReference.dockerHubRegistry
            if !repository.contains("/") {
                repository = "library/" + repository
            }
        }
        // As Docker counts it: the normalised name, with Docker Hub as "docker.io" (so that what
        // parses also prints as a reference that parses).
        let canonicalName = (registry == ImageReference.dockerHubRegistry ? "docker.io" : registry) + "/" + repository
        guard canonicalName.utf8.count <= ImageReference.maximumNameLength else {
            throw fail("the name is \(canonicalName.utf8.count) characters long as \(quoted(String(canonicalName.prefix(40)), limit: 40))…; at most \(ImageReference.maximumNameLength) are allowed")
        }
        self.registry = registry
        self.repository = repository
        self.tag = (tag == nil && digest == nil) ? "latest" : tag
        self.digest = digest
    }

    /// What goes after `/manifests/` in a registry URL: the digest when pinned, else the tag.
    public var manifestReference: String {
        digest?.string ?? tag ?? "latest"
    }

    /// `registry/repository`, without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    /// The short name Docker shows: `hitch` for Docker Hub official images, `owner/name` for other
    /// Docker Hub images, `registry/repository` everywhere else.
    public var familiarName: String {
        guard isDockerHub else { return name }
        let parts = repository.split(separator: "/")
        if parts.count == 2, parts[0] == "library" {
            return String(parts[1])
        }
        return repository
    }

    /// `registry/repository[:tag][@digest]`, with only the parts present.
    public var description: String {
        var text = name
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.string }
        return text
    }

    /// The same reference pinned to `digest`, keeping its tag.
    public func pinned(to digest: Digest) -> ImageReference {
        var copy = self
        copy.digest = digest
        return copy
    }

    public var isDockerHub: Bool { registry == ImageReference.dockerHubRegistry }

    // MARK: - Grammar

    /// `[\w][\w.-]{0,127}`
    static func tagProblem(_ tag: String) -> String? {
        let rule = "a tag is 1 to \(maximumTagLength) letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        guard let first = tag.utf8.first else {
            return "the tag after ':' is empty; \(rule)"
        }
        let isWord = { (byte: UInt8) in isASCIIAlphanumeric(byte) || byte == UInt8(ascii: "_") }
        guard tag.utf8.count <= maximumTagLength, isWord(first),
            tag.utf8.allSatisfy({ isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") })
        else {
            if tag.contains(":") {
                return "tag \(quoted(tag)) contains ':'; the form is [HOST[:PORT]/]PATH[:TAG][@DIGEST] with at most one tag"
            }
            return "tag \(quoted(tag)) is not valid; \(rule)"
        }
        return nil
    }

    /// `host[:port]` where host is a domain name, an IPv4 address or `[IPv6]`.
    static func domainProblem(_ domain: Substring) -> String? {
        var host = domain
        var port: Substring?
        if domain.hasPrefix("[") {
            guard let close = domain.firstIndex(of: "]") else {
                return "registry host \(quoted(String(domain))) opens '[' for an IPv6 address but never closes it"
            }
            let address = domain[domain.index(after: domain.startIndex)..<close]
            guard !address.isEmpty, address.contains(":"),
                address.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else {
                return "registry host \(quoted(String(domain))) is not a valid bracketed IPv6 address such as [::1]"
            }
            let after = domain[domain.index(after: close)...]
            host = domain[...close]
            if !after.isEmpty {
                guard after.hasPrefix(":") else {
                    return "registry \(quoted(String(domain))) has text after the IPv6 address; only :PORT may follow it"
                }
                port = after.dropFirst()
            }
        } else {
            if let colon = domain.firstIndex(of: ":") {
                host = domain[..<colon]
                port = domain[domain.index(after: colon)...]
            }
            let components = host.split(separator: ".", omittingEmptySubsequences: false)
            let valid = components.allSatisfy { component in
                guard let first = component.utf8.first, let last = component.utf8.last else { return false }
                return isASCIIAlphanumeric(first) && isASCIIAlphanumeric(last)
                    && component.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") }
            }
            guard valid else {
                return "registry host \(quoted(String(host))) is not a valid host name (letters, digits and '-', in dot-separated labels)"
            }
        }
        if let port {
            guard !port.isEmpty, port.utf8.count <= 5, port.utf8.allSatisfy(isASCIIDigit), let number = Int(port), (1...65535).contains(number) else {
                return "registry port \(quoted(String(port))) is not a number from 1 to 65535"
            }
        }
        return nil
    }

    /// `component(/component)*`, component = `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    static func pathProblem(_ path: Substring) -> String? {
        guard !path.isEmpty else {
            return "the repository path after the registry is empty"
        }
        if path.lowercased() != path {
            return "repository \(quoted(String(path))) must be lowercase (try \(quoted(path.lowercased())))"
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard component.isEmpty == false else {
                return "repository \(quoted(String(path))) has an empty path component (a leading, trailing or doubled '/')"
            }
            if component.contains(":") {
                return "repository \(quoted(String(path))) contains ':'; the form is [HOST[:PORT]/]PATH[:TAG][@DIGEST] with at most one tag"
            }
            guard isValidPathComponent(component) else {
                return "repository path component \(quoted(String(component))) is not valid; use lowercase letters and digits, "
                    + "separated by '.', '_', '__' or dashes, starting and ending with a letter or digit"
            }
        }
        return nil
    }

    private static func isValidPathComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        var index = 0
        func alphanumericRun() -> Bool {
            let start = index
            while index < bytes.count, isLowercaseAlphanumeric(bytes[index]) { index += 1 }
            return index > start
        }
        guard alphanumericRun() else { return false }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
            case UInt8(ascii: "_"):
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "_") { index += 1 }
            case UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            default:
                return false
            }
            guard alphanumericRun() else { return false }
        }
        return true
    }
}
