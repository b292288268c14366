import OCI
import Transport

/// A failure talking to a registry, with what it means for the user.
public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The registry does not have what was asked for (404, MANIFEST_UNKNOWN, NAME_UNKNOWN).
        case notFound
        /// Credentials missing or refused (401 after authenticating, 403).
        case unauthorized
        /// The registry's answer is not what the distribution spec promises (HTML, garbage, wrong digest header).
        case badResponse
        /// Bytes did not match the digest or size they were asked for.
        case digestMismatch
        /// Redirect refused (loop, non-HTTP scheme, downgrade to plain HTTP).
        case redirect
        /// A token realm or redirect would send credentials somewhere unsafe.
        case insecureRealm
        /// 5xx or 429 still failing after retries, or any other unexpected status.
        case server
        /// DNS, connect, TLS, proxy, timeouts: the route did not work.
        case network
        /// A cap was exceeded (manifest over 4 MiB, token over 1 MiB).
        case tooLarge
        /// Local file trouble while storing a download.
        case io
        /// A login that cannot be had as configured (a credential helper not installed, an auth
        /// file that is not one, a flag that cannot apply): the configuration must change.
        case loginUnusable
        /// A credential helper ran and failed, hung or answered nonsense: it may not happen again.
        case loginFailed
    }

    public var kind: Kind
    public var message: String
    /// How far the exchange that failed got (the transport's evidence, or that of the error
    /// response), when there was one: a failed vantage's report keeps it.
    public var evidence: TransportEvidence?

    public init(_ kind: Kind, _ message: String, evidence: TransportEvidence? = nil) {
        self.kind = kind
        self.message = message
        self.evidence = evidence
    }

    public var description: String { message }

    /// True when the failure says the request itself is wrong (exit 2), not that a route failed (exit 3).
    public var isBadInput: Bool {
        switch kind {
        case .notFound, .unauthorized, .badResponse, .tooLarge, .insecureRealm, .loginUnusable: true
        case .digestMismatch, .redirect, .server, .network, .io, .loginFailed: false
        }
    }
}
