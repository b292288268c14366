/// Why an SSH vantage could not be used: what happened, to which host, and what to do next.
public struct SSHError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The host's key is not in the known_hosts file.
        case hostKeyUnknown
        /// The host presents a key other than the one in the known_hosts file.
        case hostKeyChanged
        /// Name resolution, TCP connect or the SSH handshake failed.
        case connect
        /// The server refused every credential offered.
        case authentication
        /// The connection broke while a command ran.
        case connectionLost
        /// The remote side is missing something (curl, sha256sum) or answered in a way we cannot read.
        case remote
        /// No progress for longer than the session's timeout.
        case timeout
        /// The vantage's settings cannot work (missing file, bad value).
        case configuration
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
