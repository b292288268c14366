import Foundation
import OCI
import Transport

/// A distribution-spec client over one vantage's `HTTPTransport`: authentication, manifests, blobs,
/// redirects, retries and resume. Every vantage runs this same code; only the transport differs.
public final class RegistryClient: Sendable {
    public let transport: any HTTPTransport
    let credentials: RegistryCredentials
    let insecureHosts: Set<String>
    let retry: RetryPolicy
    let tokens = TokenCache()
    /// The vantage's name in `HTTPExchangeLog` (nil: its exchanges are not told).
    let label: String?

    public static let manifestSizeLimit = 4 * 1024 * 1024
    public static let tokenSizeLimit = 1024 * 1024

    /// `insecureRegistries` are `host[:port]` values that are spoken to over plain HTTP.
    public init(
        transport: any HTTPTransport, credentials: RegistryCredentials = .none, insecureRegistries: Set<String> = [], retry: RetryPolicy = .standard,
        label: String? = nil
    ) {
        self.transport = transport
        self.label = label
        self.credentials = credentials
        self.insecureHosts = insecureRegistries
        self.retry = retry
    }

    func baseURL(_ registry: String) -> String {
        (insecureHosts.contains(registry) ? "http://" : "https://") + registry
    }

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }

    // MARK: - Ping

    /// What `GET /v2/` said: whether the registry speaks the API and how it wants to be authenticated.
    public struct Ping: Sendable {
        public var status: Int
        public var challenges: [AuthChallenge]
        public var evidence: TransportEvidence
    }

    public func ping(registry: String) async throws -> Ping {
        let url = baseURL(registry) + "/v2/"
        let (response, _) = try await withRetries(url) {
            try await self.followRedirects(HTTPRequest(url: url), authorization: nil, into: .memory(limit: 64 * 1024))
        }
        guard response.status == 200 || response.status == 401 else {
            if let proxys = ProxyAnswer.proxysOwnFailure(response, route: transport.route, url: url, what: "\(registry)/v2/") { throw proxys }
            throw RegistryError(.badResponse, "\(url) answered HTTP \(response.status); is \(registry) a container registry?")
        }
        let challenges = (try? response.headers.values("WWW-Authenticate").flatMap { try AuthChallenge.parse($0) }) ?? []
        return Ping(status: response.status, challenges: challenges, evidence: response.evidence)
    }

    // MARK: - Manifests

    /// Resolves `reference` to its top manifest or index and, for an index, the manifest for `platform`;
    /// with `fetchingConfig`, also the config blob (its bytes as received: another exchange, which
    /// only a policy that has every vantage hash every blob needs; the manifest fixes its digest).
    /// With `shared`, the platform's manifest (named by digest in the index) is taken from another
    /// vantage's checked copy when there is one, and this vantage's is kept there for the others
    /// (`SharedManifests`); the top manifest is always fetched over this client's route.
    public func resolve(_ reference: ImageReference, platform: Platform, fetchingConfig: Bool = true, shared: SharedManifests? = nil) async throws -> ImageResolution {
        let top = try await fetchManifest(registry: reference.registry, repository: reference.repository, reference: reference.manifestReference, expected: reference.digest)
        var resolution = try await resolveManifests(reference, top: top, platform: platform, shared: shared)
        if fetchingConfig {
            resolution.config = try await fetchSmallBlob(registry: reference.registry, repository: reference.repository, descriptor: resolution.manifest.config)
        }
        return resolution
    }

    func resolveManifests(_ reference: ImageReference, top: FetchedManifest, platform: Platform, shared: SharedManifests? = nil) async throws -> ImageResolution {
        switch top.document {
        case .manifest(let manifest):
            return ImageResolution(reference: reference, top: top, platformManifest: nil, platform: nil, manifest: manifest)
        case .index(let index):
            let entry: Descriptor
            do {
                entry = try index.select(platform: platform)
            } catch let error as OCIError {
                throw RegistryError(.notFound, "\(reference): \(error.message)")
            }
            let platformManifest: FetchedManifest
            if let kept = shared?.manifest(entry.digest) {
                platformManifest = kept
            } else {
                platformManifest = try await fetchManifest(
                    registry: reference.registry, repository: reference.repository, reference: entry.digest.string, expected: entry.digest, size: entry.size)
                shared?.keep(platformManifest, as: entry.digest)
            }
            guard Int64(platformManifest.bytes.count) == entry.size else {
                throw RegistryError(.digestMismatch, "\(reference): the index says the manifest for \(platform) is \(entry.size) bytes, the registry sent \(platformManifest.bytes.count)")
            }
            guard case .manifest(let manifest) = platformManifest.document else {
                throw RegistryError(.badResponse, "\(reference): the index entry for \(platform) is itself an index; nested indexes are not supported")
            }
            return ImageResolution(reference: reference, top: top, platformManifest: platformManifest, platform: platform, manifest: manifest)
        }
    }

    /// Fetches one manifest or index with all four Accept types, verifies its digest (against
    /// `expected`, and against `Docker-Content-Digest` when sent) and decodes it without re-serialising.
    /// With the `size` an index gave, a longer body is stopped there (wrong bytes: `digestMismatch`);
    /// any manifest stops at the 4 MiB cap while it arrives.
    public func fetchManifest(registry: String, repository: String, reference: String, expected: Digest?, size: Int64? = nil) async throws -> FetchedManifest {
        let url = baseURL(registry) + "/v2/\(repository)/manifests/\(reference)"
        let accept = MediaType.manifestAcceptTypes.joined(separator: ", ")
        let request = HTTPRequest(url: url, headers: [("Accept", accept)], maximumBodyLength: size)
        let (response, chain): (HTTPResponse, [String])
        do {
            (response, chain) = try await exchange(request, registry: registry, scope: Self.pullScope(repository), into: .memory(limit: Self.manifestSizeLimit))
        } catch let error as TransportError where error.kind == .bodyTooLarge {
            if let size, size < Self.manifestSizeLimit {
                throw Self.longerThanDescribed("the manifest \(reference)", size: size, error)
            }
            throw RegistryError(.tooLarge, "the manifest at \(url) is larger than the \(Self.manifestSizeLimit / 1024 / 1024) MiB cap; refusing it")
        }
        let shown = Self.shownReference(registry: registry, repository: repository, reference: reference)
        guard response.status == 200 else {
            if response.status == 404, ProxyAnswer.proxysOwnFailure(response, route: transport.route, url: url, what: shown) == nil,
                let missing = await missingTag(registry: registry, repository: repository, reference: reference)
            {
                throw missing
            }
            throw statusFailure(response, what: "manifest \(shown)", url: url, advice: loginAdvice(for: registry))
        }
        let bytes = response.body
        let headerDigest = response.headers["Docker-Content-Digest"]
        let parsedHeader = headerDigest.flatMap { try? Digest(parsing: $0.trimmingCharacters(in: .whitespaces)) }
        if headerDigest != nil, parsedHeader == nil {
            throw RegistryError(.badResponse, "\(url) sent a malformed Docker-Content-Digest header; refusing the manifest")
        }
        let algorithm = expected?.algorithm ?? .sha256
        let hex = algorithm == .sha256 ? response.bodySHA256 : DigestHasher.digest(of: bytes, algorithm: algorithm)
        let digest = try Digest(algorithm: algorithm, encoded: hex)
        if let parsedHeader {
            let computed = parsedHeader.algorithm == algorithm ? hex : DigestHasher.digest(of: bytes, algorithm: parsedHeader.algorithm)
            guard computed == parsedHeader.encoded else {
                throw RegistryError(.digestMismatch, "\(url): the Docker-Content-Digest header says \(parsedHeader) but the body hashes to \(parsedHeader.algorithm.rawValue):\(computed)")
            }
        }
        if let expected, expected != digest {
            throw RegistryError(.digestMismatch, "\(url): asked for \(expected) but the body hashes to \(digest)")
        }
        let contentType = response.headers["Content-Type"]
        let document: ManifestDocument
        do {
            document = try ManifestDocument.decode(bytes, contentType: contentType)
        } catch let error as OCIError {
            throw RegistryError(.badResponse, "\(shown): \(error.message)")
        }
        return FetchedManifest(
            bytes: bytes, digest: digest, mediaType: document.mediaType ?? contentType ?? "", contentType: contentType,
            dockerContentDigest: headerDigest, document: document, urlChain: chain, evidence: response.evidence)
    }

    // MARK: - Blobs

    public static let configSizeLimit = 4 * 1024 * 1024

    /// A small blob (an image config) fetched into memory. The bytes are returned whatever they
    /// hash to: the caller compares `sha256` across vantages and against the digest.
    public struct SmallBlob: Sendable {
        public var bytes: Data
        public var sha256: String
    }

    public func fetchSmallBlob(registry: String, repository: String, descriptor: Descriptor) async throws -> SmallBlob {
        let url = baseURL(registry) + "/v2/\(repository)/blobs/\(descriptor.digest)"
        guard descriptor.size <= Self.configSizeLimit else {
            throw RegistryError(.tooLarge, "the config blob \(descriptor.digest) is declared as \(descriptor.size) bytes, over the \(Self.configSizeLimit / 1024 / 1024) MiB cap")
        }
        let response: HTTPResponse
        do {
            let request = HTTPRequest(url: url, maximumBodyLength: max(0, descriptor.size))
            (response, _) = try await exchange(request, registry: registry, scope: Self.pullScope(repository), into: .memory(limit: Self.configSizeLimit))
        } catch let error as TransportError where error.kind == .bodyTooLarge {
            throw Self.longerThanDescribed("the config blob \(descriptor.digest)", size: descriptor.size, error)
        }
        guard response.status == 200 else {
            throw statusFailure(response, what: "config blob \(descriptor.digest)", url: url, advice: loginAdvice(for: registry))
        }
        return SmallBlob(bytes: response.body, sha256: response.bodySHA256)
    }

    /// Downloads a blob only to hash it (nothing kept): SHA-256 and length of the bytes received.
    public func hashBlob(registry: String, repository: String, descriptor: Descriptor) async throws -> (sha256: String, length: Int64) {
        let url = baseURL(registry) + "/v2/\(repository)/blobs/\(descriptor.digest)"
        let response: HTTPResponse
        do {
            let request = HTTPRequest(url: url, maximumBodyLength: max(0, descriptor.size))
            (response, _) = try await exchange(request, registry: registry, scope: Self.pullScope(repository), into: .discard)
        } catch let error as TransportError where error.kind == .bodyTooLarge {
            throw Self.longerThanDescribed("blob \(descriptor.digest)", size: descriptor.size, error)
        }
        guard response.status == 200 else {
            throw statusFailure(response, what: "blob \(descriptor.digest)", url: url, advice: loginAdvice(for: registry))
        }
        return (response.bodySHA256, response.bodyLength)
    }

    /// The result of bringing a blob's bytes into a partial file.
    public struct BlobDownload: Sendable {
        /// SHA-256 of the whole file when this download wrote all of it; nil when it resumed a prefix
        /// from earlier (the caller must then hash the file).
        public var sha256OfWholeFile: String?
        public var length: Int64
        public var resumed: Bool
        public var evidence: TransportEvidence?
    }

    /// Downloads `descriptor` into `partialPath`, resuming what the file already holds with a Range
    /// request and starting over cleanly when the server ignores the range. The caller verifies the digest.
    /// The file never grows past `descriptor.size`: a body that would make it is stopped there, the
    /// file is deleted (its bytes are wrong) and the error is `digestMismatch`.
    public func downloadBlob(registry: String, repository: String, descriptor: Descriptor, to partialPath: String) async throws -> BlobDownload {
        try await downloadBlob(registry: registry, repository: repository, descriptor: descriptor, to: partialPath, tap: nil)
    }

    /// `downloadBlob` with a `tap` that sees every body written to the file (each request's, see
    /// `BodyTap`): package-level, for the layer streaming behind Coordinator's `LayerStream` only.
    package func downloadBlob(
        registry: String, repository: String, descriptor: Descriptor, to partialPath: String, tap: (any BodyTap)?
    ) async throws -> BlobDownload {
        let url = baseURL(registry) + "/v2/\(repository)/blobs/\(descriptor.digest)"
        var attempt = 0
        var resumedAny = false
        while true {
            attempt += 1
            var existing = Self.fileLength(partialPath)
            if existing > descriptor.size {
                try Self.truncate(partialPath)
                existing = 0
            }
            if existing == descriptor.size, existing > 0 {
                return BlobDownload(sha256OfWholeFile: nil, length: existing, resumed: true, evidence: nil)
            }
            let request = HTTPRequest(url: url, rangeStart: existing > 0 ? existing : nil, maximumBodyLength: descriptor.size)
            let response: HTTPResponse
            do {
                // This loop retries itself, each time with a range from what the file holds now: a
                // retry inside `exchange` would repeat a stale range and append bytes twice.
                (response, _) = try await exchange(request, registry: registry, scope: Self.pullScope(repository), into: .file(path: partialPath, tap: tap.map(BodyTapHandle.init)), retrying: false)
            } catch let error as TransportError where error.kind == .bodyTooLarge {
                unlink(partialPath)
                throw Self.longerThanDescribed("blob \(descriptor.digest)", size: descriptor.size, error, deleted: partialPath)
            } catch let error as TransportError {
                if Self.isRetryable(error), let delay = retry.delay(afterAttempt: attempt, retryAfter: nil) {
                    try await Task.sleep(for: .seconds(delay))
                    continue
                }
                throw Self.networkError(error)
            }
            switch response.status {
            case 200:
                let length = Self.fileLength(partialPath)
                return BlobDownload(sha256OfWholeFile: length == response.bodyLength ? response.bodySHA256 : nil, length: length, resumed: resumedAny, evidence: response.evidence)
            case 206:
                guard Self.contentRangeStart(response.headers["Content-Range"]) == existing else {
                    // A range we did not ask for: start over rather than splice wrong bytes.
                    try Self.truncate(partialPath)
                    continue
                }
                resumedAny = true
                let length = Self.fileLength(partialPath)
                if length < descriptor.size, retry.delay(afterAttempt: attempt, retryAfter: nil) != nil { continue }
                return BlobDownload(sha256OfWholeFile: nil, length: length, resumed: true, evidence: response.evidence)
            case 416:
                try Self.truncate(partialPath)
                if attempt < retry.maximumAttempts { continue }
                throw RegistryError(.server, "\(url) refused every range request (416)")
            default:
                if RetryPolicy.isRetryable(status: response.status),
                    let delay = retry.delay(afterAttempt: attempt, retryAfter: response.headers["Retry-After"])
                {
                    try await Task.sleep(for: .seconds(delay))
                    continue
                }
                throw statusFailure(response, what: "blob \(descriptor.digest)", url: url, advice: loginAdvice(for: registry))
            }
        }
    }

    // MARK: - Exchanges: authentication, redirects, retries

    /// One request with authentication: sends cached credentials, answers a 401 challenge once,
    /// and only a challenge from the registry's own origin (`ChallengePolicy`).
    /// `retrying: false` leaves transient failures (thrown as `TransportError`) and retryable
    /// statuses to the caller.
    func exchange(_ request: HTTPRequest, registry: String, scope: String, into destination: BodyDestination, retrying: Bool = true) async throws -> (HTTPResponse, [String]) {
        let cacheKey = "\(registry) \(scope)"
        var authorization = await tokens.current(for: cacheKey)
        for round in 0..<2 {
            let (response, chain) = retrying
                ? try await withRetries(request.url) { try await self.followRedirects(request, authorization: authorization, into: destination) }
                : try await followRedirects(request, authorization: authorization, into: destination)
            guard response.status == 401 else { return (response, chain) }
            if case .refuse(let reason) = ChallengePolicy.decide(registry: baseURL(registry), challenger: chain.last ?? request.url) {
                throw RegistryError(.insecureRealm, reason)
            }
            guard round == 0 else { return (response, chain) }
            let challenges: [AuthChallenge]
            do {
                challenges = try response.headers.values("WWW-Authenticate").flatMap { try AuthChallenge.parse($0) }
            } catch let error as OCIError {
                throw RegistryError(.badResponse, "\(registry) sent a malformed WWW-Authenticate challenge: \(error.message)")
            }
            // One token request at a time per registry and scope: the client's other requests that
            // meet the challenge meanwhile wait for it (`TokenCache.refreshed`).
            guard let fresh = try await tokens.refreshed(for: cacheKey, after: authorization, fetch: {
                try await self.authenticate(registry: registry, scope: scope, challenges: challenges)
            }) else {
                return (response, chain)
            }
            authorization = fresh
        }
        throw RegistryError(.unauthorized, "\(registry) kept refusing authentication")
    }

    /// Answers the first challenge we can: Bearer (anonymous, or with docker credentials) or Basic.
    func authenticate(registry: String, scope: String, challenges: [AuthChallenge]) async throws -> (header: String, lifetime: Double)? {
        let credential = credentials.credential(for: registry)
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            return try await fetchToken(registry: registry, scope: scope, challenge: bearer, credential: credential)
        }
        if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credential else {
                throw RegistryError(.unauthorized, "\(registry) requires a login; \(loginAdvice(for: registry))")
            }
            return (credential.basicAuthorization, 24 * 3600)
        }
        if challenges.isEmpty {
            throw RegistryError(.unauthorized, "\(registry) answered 401 without a WWW-Authenticate challenge")
        }
        throw RegistryError(.unauthorized, "\(registry) asks for an unsupported authentication scheme (\(challenges.map(\.scheme).joined(separator: ", ")))")
    }

    func fetchToken(registry: String, scope: String, challenge: AuthChallenge, credential: RegistryCredential?) async throws -> (header: String, lifetime: Double) {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
            let realmURL = components.url, let scheme = realmURL.scheme?.lowercased(), realmURL.host != nil
        else {
            throw RegistryError(.badResponse, "\(registry) sent a Bearer challenge without a usable realm URL")
        }
        let realmOrigin = Origin(realmURL)
        guard scheme == "https" || (scheme == "http" && insecureHosts.contains(realmOrigin.hostPort)) else {
            throw RegistryError(.insecureRealm, "\(registry) sends clients for tokens to \(realm), which is not https; refusing. If that host is meant to be plain HTTP, pass --insecure-registry \(realmOrigin.hostPort)")
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: challenge.parameters["scope"] ?? scope))
        components.queryItems = query
        guard let url = components.url?.absoluteString else {
            throw RegistryError(.badResponse, "cannot build a token request from the realm \(realm)")
        }
        let request = HTTPRequest(url: url)
        let response: HTTPResponse
        do {
            (response, _) = try await withRetries(url) {
                try await self.followRedirects(request, authorization: credential?.basicAuthorization, into: .memory(limit: Self.tokenSizeLimit))
            }
        } catch let error as TransportError where error.kind == .bodyTooLarge {
            throw RegistryError(.tooLarge, "the token service at \(realmOrigin.hostPort) answered more than 1 MiB; refusing it")
        }
        switch response.status {
        case 200:
            let (token, lifetime) = try TokenResponse.parse(response.body, realm: realmOrigin.hostPort)
            return ("Bearer " + token, lifetime)
        case 401, 403:
            let who = credential.map { "the credentials for \($0.username)" } ?? "anonymous access"
            throw RegistryError(.unauthorized, "the token service at \(realmOrigin.hostPort) refused \(who) to \(registry) (HTTP \(response.status)); \(loginAdvice(for: registry))")
        default:
            throw statusFailure(response, what: "token from \(realmOrigin.hostPort)", url: url)
        }
    }

    /// Follows redirects by `RedirectPolicy`: Authorization goes only to the origin it was meant for.
    func followRedirects(_ request: HTTPRequest, authorization: String?, into destination: BodyDestination) async throws -> (HTTPResponse, [String]) {
        var url = request.url
        var chain = [url]
        var keepAuthorization = true
        for _ in 0...RedirectPolicy.maximumHops {
            var hop = request
            hop.url = url
            if keepAuthorization, let authorization {
                hop.headers.append((name: "Authorization", value: authorization))
            }
            let response = try await performLogged(hop, into: destination)
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.headers["Location"] else {
                return (response, chain)
            }
            switch RedirectPolicy.decide(from: url, location: location, insecureHosts: insecureHosts, start: request.url) {
            case .refuse(let reason):
                throw RegistryError(.redirect, "\(Self.redact(url)): \(reason)")
            case .follow(let next, let keep):
                keepAuthorization = keepAuthorization && keep
                url = next
                chain.append(next)
            }
        }
        throw RegistryError(.redirect, "\(Self.redact(request.url)): more than \(RedirectPolicy.maximumHops) redirects (a loop?); refusing to follow")
    }

    /// `transport.perform`, told to `HTTPExchangeLog` when this client has a label.
    func performLogged(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse {
        guard let label else { return try await transport.perform(request, into: destination) }
        let start = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        do {
            let response = try await transport.perform(request, into: destination)
            HTTPExchangeLog.record(HTTPExchange(
                vantage: label, method: request.method.rawValue, url: request.url, status: response.status, bytes: response.bodyLength, seconds: seconds()))
            return response
        } catch {
            HTTPExchangeLog.record(HTTPExchange(
                vantage: label, method: request.method.rawValue, url: request.url, status: nil, bytes: 0, seconds: seconds(),
                failure: (error as? TransportError).map { "\($0.kind)" } ?? "\(type(of: error))"))
            throw error
        }
    }

    /// Runs `operation` again on retryable statuses (5xx, 429 with Retry-After) and transient network errors.
    func withRetries(_ url: String, _ operation: () async throws -> (HTTPResponse, [String])) async throws -> (HTTPResponse, [String]) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let result = try await operation()
                if RetryPolicy.isRetryable(status: result.0.status),
                    let delay = retry.delay(afterAttempt: attempt, retryAfter: result.0.headers["Retry-After"])
                {
                    try await Task.sleep(for: .seconds(delay))
                    continue
                }
                return result
            } catch let error as TransportError {
                if Self.isRetryable(error), let delay = retry.delay(afterAttempt: attempt, retryAfter: nil) {
                    try await Task.sleep(for: .seconds(delay))
                    continue
                }
                if error.kind == .bodyTooLarge { throw error }
                throw Self.networkError(error)
            }
        }
    }

    // MARK: - Helpers

    /// A body longer than the size its descriptor gives: whatever the rest holds, these are not
    /// the bytes the digest names, so the route counts as sending wrong bytes.
    static func longerThanDescribed(_ what: String, size: Int64, _ error: TransportError, deleted partial: String? = nil) -> RegistryError {
        let cleanup = partial.map { "; the partial download \($0) was deleted" } ?? ""
        return RegistryError(
            .digestMismatch,
            "\(what): \(error.detail) (\(redact(error.url)))\(cleanup). "
                + "Its descriptor says \(size) bytes, so these are not the bytes its digest names: the route is broken or tampering")
    }

    static func isRetryable(_ error: TransportError) -> Bool {
        [.connect, .timeout, .other].contains(error.kind)
    }

    static func networkError(_ error: TransportError) -> RegistryError {
        if error.kind == .io {
            return RegistryError(.io, "could not store a download: \(error.detail)", evidence: error.evidence)
        }
        return RegistryError(.network, "\(error.detail) (\(redact(error.url)))", evidence: error.evidence)
    }

    /// A URL without its query, which on CDNs carries signed, short-lived access parameters
    /// (`Transport.URLRedaction`, shared with the transports).
    public static func redact(_ url: String) -> String {
        URLRedaction.removingQuery(url)
    }

    /// What to do about a refused or missing login, naming the login sources used or tried.
    func loginAdvice(for registry: String) -> String {
        credentials.loginAdvice(for: registry)
    }

    /// `statusError`, unless the answer is an HTTP proxy's own (`ProxyAnswer`): then the proxy's failure.
    func statusFailure(_ response: HTTPResponse, what: String, url: String, advice: String? = nil) -> RegistryError {
        var error = ProxyAnswer.proxysOwnFailure(response, route: transport.route, url: url, what: what)
            ?? Self.statusError(response, what: what, url: url, advice: advice)
        error.evidence = response.evidence
        return error
    }

    static func statusError(_ response: HTTPResponse, what: String, url: String, advice: String? = nil) -> RegistryError {
        let detail = RegistryErrorBody.summary(response.body)
        let suffix = detail.map { ": \($0)" } ?? ""
        switch response.status {
        case 404:
            return RegistryError(.notFound, "\(what) was not found (HTTP 404\(suffix)); check the name and tag")
        case 401, 403:
            return RegistryError(.unauthorized, "access to \(what) was refused (HTTP \(response.status)\(suffix)); \(advice ?? "check `docker login` for that registry")")
        case 429:
            let after = response.headers["Retry-After"].map { "; the registry asks to wait \($0) s" } ?? ""
            return RegistryError(.server, "the registry is rate-limiting requests for \(what) (HTTP 429\(after)); try again later or log in")
        default:
            return RegistryError(.server, "\(what): the registry answered HTTP \(response.status)\(suffix) at \(redact(url))")
        }
    }

    /// The length of the regular file at `path`; 0 for nothing there or anything else (a link is
    /// not followed).
    static func fileLength(_ path: String) -> Int64 {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : 0
    }

    /// Empties the file at `path`, never through a symbolic link.
    static func truncate(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return }
            throw RegistryError(.io, "cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard ftruncate(fd, 0) == 0 else {
            throw RegistryError(.io, "cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The first byte position of `Content-Range: bytes N-M/T`.
    static func contentRangeStart(_ header: String?) -> Int64? {
        guard let header, header.lowercased().hasPrefix("bytes ") else { return nil }
        let range = header.dropFirst(6)
        return range.split(separator: "-").first.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// The distribution spec's error body: `{"errors":[{"code":"…","message":"…"}]}`.
enum RegistryErrorBody {
    struct Body: Decodable {
        struct Entry: Decodable {
            var code: String?
            var message: String?
        }
        var errors: [Entry]?
    }

    static func summary(_ data: Data) -> String? {
        guard !data.isEmpty, let body = try? JSONDecoder().decode(Body.self, from: data), let errors = body.errors, !errors.isEmpty else {
            return nil
        }
        let text = errors.prefix(3).map { [$0.code, $0.message].compactMap { $0 }.joined(separator: " ") }.joined(separator: "; ")
        return String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(300).map(Character.init))
    }
}
