import Foundation
import Transport

/// `HTTPTransport` for an SSH vantage with `agent = "3tofu"`: every exchange is carried out by
/// `3tofu agent` on the remote host, with its own libcurl, DNS, network path and CA store.
///
/// The constant `AgentProtocol.command` runs as a long-lived process (one per exchange running at
/// once, at most `SSHSession.maximumProcesses`, in the vantage's one SSH session) that
/// answers request after request; each request (URL, headers, tokens, extra CAs) travels as one
/// JSON line on its standard input, never on a command line. A `.discard` body is hashed on the remote and only its SHA-256
/// and size come back; other bodies stream back, are hashed here and checked against the hash the
/// agent announced.
public final class SSHAgentTransport: HTTPTransport, Sendable {
    public let connection: SSHConnection
    /// PEM certificates the agent trusts in addition to the remote's system bundle.
    public let extraCAPEM: Data?
    /// Seconds the agent allows to connect to a server.
    public let connectTimeout: Double

    public init(connection: SSHConnection, extraCAPEM: Data? = nil, connectTimeout: Double = 20) {
        self.connection = connection
        self.extraCAPEM = extraCAPEM
        self.connectTimeout = connectTimeout
    }

    /// "ssh://user@host:port".
    public var route: String { connection.target.route }

    public func perform(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse {
        try RequestValidation.check(request)
        let shownURL = URLRedaction.removingUserInfo(request.url)
        let travel = RemoteExchange.bodyTravel(request, into: destination)
        let mode: AgentProtocol.Mode = travel.hashOnRemote ? .hash : .stream
        let memoryLimit = travel.memoryLimit
        let agentRequest = AgentProtocol.Request(
            request, mode: mode, memoryLimit: memoryLimit, caPEM: extraCAPEM.map { String(decoding: $0, as: UTF8.self) },
            connectTimeout: connectTimeout)
        let input = try AgentProtocol.line(agentRequest)
        let route = self.route
        return try await RemoteExchange.run(
            AgentProtocol.command, stdin: input, on: connection, shownURL: shownURL,
            receiver: { AgentReplyReceiver(request: request, destination: destination, shownURL: shownURL, route: route) }
        ) { result, receiver in
            try Self.response(result, receiver: receiver, mode: mode, route: route, shownURL: shownURL)
        }
    }

    static func response(_ result: SSHSession.ExecResult, receiver: AgentReplyReceiver, mode: AgentProtocol.Mode, route: String, shownURL: String) throws -> HTTPResponse {
        guard let head = receiver.head else {
            let said = String(decoding: result.stderr.suffix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if result.exitStatus == 127 {
                throw SSHError(.remote, "the remote host of \(route) cannot run `\(AgentProtocol.command)`: 3tofu is not on its PATH (\(said)); install 3tofu there or use agent = \"curl\"")
            }
            let how = result.exitSignal.map { "was killed by signal \($0)" } ?? "exited with status \(result.exitStatus.map(String.init) ?? "?")"
            throw TransportError(kind: .other, url: shownURL, detail: "`\(AgentProtocol.command)` on \(route) \(how) without a reply\(said.isEmpty ? "" : ": \(said)")")
        }
        if let error = head.error {
            guard let kind = TransportError.Kind(rawValue: error.kind) else {
                throw SSHError(.remote, "`\(AgentProtocol.command)` on \(route) refused the request (\(error.kind)): \(error.detail); install the same 3tofu version on both hosts")
            }
            throw TransportError(kind: kind, url: shownURL, detail: "3tofu agent on \(route): \(error.detail)", evidence: head.evidence.map(Self.failureEvidence))
        }
        guard let status = head.status else {
            throw TransportError(kind: .other, url: shownURL, detail: "3tofu agent on \(route) sent no HTTP status")
        }
        try receiver.finishEmptyBody()
        var evidence = head.evidence ?? TransportEvidence()
        evidence.effectiveURL = evidence.effectiveURL.map(URLRedaction.removingUserInfo)
        switch mode {
        case .stream:
            guard receiver.length == head.bodyLength else {
                throw TransportError(kind: .other, url: shownURL, detail: "the reply from 3tofu agent on \(route) ended after \(receiver.length) of \(head.bodyLength) body bytes")
            }
            let sha256 = receiver.sha256Hex()
            guard sha256 == head.bodySHA256 else {
                throw TransportError(kind: .other, url: shownURL, detail: "the body from 3tofu agent on \(route) does not match the SHA-256 the agent announced")
            }
            return HTTPResponse(status: status, headers: head.httpHeaders, body: receiver.body, bodySHA256: sha256, bodyLength: receiver.length, evidence: evidence)
        case .hash:
            guard receiver.length == 0, head.bodySHA256.count == 64, head.bodySHA256.allSatisfy(\.isHexDigit) else {
                throw TransportError(kind: .other, url: shownURL, detail: "3tofu agent on \(route) did not report the body's SHA-256 and size")
            }
            return HTTPResponse(status: status, headers: head.httpHeaders, body: Data(), bodySHA256: head.bodySHA256.lowercased(), bodyLength: head.bodyLength, evidence: evidence)
        }
    }

    /// What the agent saw of an exchange that failed, as this side keeps it: its URL without user
    /// information, a shown chain only with well-formed fingerprints, its text on one printable
    /// line (the agent's host is a vantage, not trusted with the terminal or the report).
    static func failureEvidence(_ seen: TransportEvidence) -> TransportEvidence {
        var evidence = seen
        evidence.effectiveURL = seen.effectiveURL.map(URLRedaction.removingUserInfo)
        evidence.sshHostKey = nil
        evidence.untrustedCertificates = seen.untrustedCertificates.map { $0.compactMap { $0.checked() } }.flatMap { $0.isEmpty ? nil : $0 }
        evidence.untrustedCertificatesNotRecorded = seen.untrustedCertificatesNotRecorded.map(ShownCertificate.printable)
        return evidence
    }

    /// What `vantages check` can report about an agent host.
    public struct Probe: Sendable, Equatable {
        public var hostKey: HostKey
        /// The first line of the remote `3tofu --version`, or nil when 3tofu is not on the remote PATH.
        public var agentVersion: String?
    }

    /// The command `probe()` runs: a constant.
    public static let probeCommand = "3tofu --version"

    /// Connects (host key, authentication) and asks the remote 3tofu for its version.
    public func probe() async throws -> Probe {
        let output = try await connection.withSession { session, cancellation -> (HostKey, Data, Int32?) in
            var stdout = Data()
            let result = try session.exec(Self.probeCommand, stdin: Data(), cancellation: cancellation) { bytes in
                if stdout.count < 64 * 1024 { stdout.append(contentsOf: bytes) }
            }
            return (session.hostKey, stdout, result.exitStatus)
        }
        let line = String(decoding: output.1, as: UTF8.self).split(separator: "\n").first.map(String.init)
        return Probe(hostKey: output.0, agentVersion: output.2 == 0 ? line : nil)
    }
}
