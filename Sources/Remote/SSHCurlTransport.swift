import Foundation
import Transport

/// `HTTPTransport` for an SSH vantage with `agent = "curl"`: every exchange is carried out by curl
/// on the remote host, so the remote's network path, DNS and CA store do the seeing.
///
/// The constant `RemoteCurlScript.command` runs as a long-lived process (see `SSHSession.exchange`) that
/// serves exchange after exchange; each request travels on its standard input, never on a command
/// line. A `.discard` body is hashed on the remote and only its SHA-256 and size come back; other
/// bodies stream back and are hashed here. Up to `SSHSession.maximumProcesses` exchanges run on one
/// vantage at once, each with a process of its own in the one SSH session.
public final class SSHCurlTransport: HTTPTransport, Sendable {
    public let connection: SSHConnection
    public let options: RemoteCurlScript.Options

    public init(connection: SSHConnection, options: RemoteCurlScript.Options = RemoteCurlScript.Options()) {
        self.connection = connection
        self.options = options
    }

    /// "ssh://user@host:port".
    public var route: String { connection.target.route }

    public func perform(_ request: HTTPRequest, into destination: BodyDestination) async throws -> HTTPResponse {
        try RequestValidation.check(request)
        let shownURL = URLRedaction.removingUserInfo(request.url)
        let travel = RemoteExchange.bodyTravel(request, into: destination)
        let mode: RemoteCurlScript.Mode = travel.hashOnRemote ? .hash : .stream
        let memoryLimit = travel.memoryLimit
        let nonce = RemoteCurlScript.makeNonce()
        let input = RemoteCurlScript.standardInput(for: request, mode: mode, memoryLimit: memoryLimit, options: options, nonce: nonce)
        let route = self.route
        return try await RemoteExchange.run(
            RemoteCurlScript.command, stdin: input, on: connection, shownURL: shownURL,
            receiver: { RemoteBodyReceiver(request: request, destination: destination, shownURL: shownURL, route: route, nonce: nonce) }
        ) { result, receiver in
            try Self.response(result, receiver: receiver, request: request, mode: mode, route: route, shownURL: shownURL)
        }
    }

    static func response(
        _ result: SSHSession.ExecResult, receiver: RemoteBodyReceiver, request: HTTPRequest, mode: RemoteCurlScript.Mode, route: String, shownURL: String
    ) throws -> HTTPResponse {
        let trailer = RemoteCurlReply.Trailer.parse(result.stderr)
        if let message = trailer.scriptErrors.first {
            throw SSHError(.remote, "the remote host of \(route) cannot fetch: \(message); install it there or use another vantage")
        }
        guard var curlExit = trailer.curlExit else {
            let how = result.exitSignal.map { "was killed by signal \($0)" } ?? "exited with status \(result.exitStatus.map(String.init) ?? "?")"
            let said = String(decoding: result.stderr.suffix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw TransportError(kind: .other, url: shownURL, detail: "the fetch command on \(route) \(how) before finishing\(said.isEmpty ? "" : ": \(said)")")
        }
        if mode == .hash, let status = receiver.head?.status, let size = trailer.values["size_download"].flatMap(Int64.init),
            let cut = RemoteCurlScript.hashedBodyLimit(request), size > cut
        {
            // The remote hashed only `cut` bytes (`head -c`), and curl may have failed writing the rest.
            if let limit = BodyLimit(request: request, status: status) { throw limit.error(url: shownURL, announced: nil, via: route) }
            // An error status's body, cut: the exchange itself worked.
            if curlExit == 23 { curlExit = 0 }
        }
        guard curlExit == 0 else {
            let seen = trailer.evidence(headers: receiver.head?.headers ?? HTTPHeaders())
            let kind = RemoteCurlReply.errorKind(curlExit: curlExit)
            let message = trailer.curlMessage ?? "curl exited with status \(curlExit)"
            if kind == .bodyTooLarge {
                throw TransportError(kind: .bodyTooLarge, url: shownURL, detail: "curl on \(route): \(message)", evidence: seen)
            }
            if kind == .tls {
                // The same words as a TLS failure on this machine; curl's own text stays as the reason.
                let reason = message.replacingOccurrences(of: #"^\(\d+\) "#, with: "", options: .regularExpression)
                throw TransportError(kind: .tls, url: shownURL, detail: "curl on \(route): " + TransportFailureWords.tls(url: shownURL, via: "", reason: reason), evidence: seen)
            }
            throw TransportError(kind: kind, url: shownURL, detail: "curl on \(route): \(message)", evidence: seen)
        }
        guard let head = receiver.head else {
            throw TransportError(kind: .other, url: shownURL, detail: "curl on \(route) finished without an HTTP response")
        }
        try receiver.finishEmptyBody()
        let evidence = trailer.evidence(headers: head.headers)
        switch mode {
        case .stream:
            return HTTPResponse(
                status: head.status, headers: head.headers, body: receiver.body, bodySHA256: receiver.sha256Hex(),
                bodyLength: receiver.length, evidence: evidence)
        case .hash:
            guard let sha256 = trailer.sha256, let size = trailer.values["size_download"].flatMap(Int64.init) else {
                throw TransportError(kind: .other, url: shownURL, detail: "the remote host of \(route) did not report the body's SHA-256 and size")
            }
            return HTTPResponse(status: head.status, headers: head.headers, body: Data(), bodySHA256: sha256, bodyLength: size, evidence: evidence)
        }
    }

    /// What `vantages check` reports about the remote host.
    public struct Probe: Sendable, Equatable {
        public var hostKey: HostKey
        /// curl's `--version` first line, or nil when curl is missing.
        public var curlVersion: String?
        /// "sha256sum" or "openssl", or nil when neither exists.
        public var hashTool: String?
        public var missing: [String]
    }

    /// Connects (host key, authentication) and checks that curl and a SHA-256 tool exist on the remote.
    public func probe() async throws -> Probe {
        let output = try await connection.withSession { session, cancellation -> (HostKey, Data) in
            var stdout = Data()
            _ = try session.exec(RemoteCurlScript.probeCommand, stdin: Data(), cancellation: cancellation) { bytes in
                if stdout.count < 64 * 1024 { stdout.append(contentsOf: bytes) }
            }
            return (session.hostKey, stdout)
        }
        var probe = Probe(hostKey: output.0, curlVersion: nil, hashTool: nil, missing: [])
        for line in String(decoding: output.1, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("3tofu-curl ") {
                probe.curlVersion = String(line.dropFirst("3tofu-curl ".count))
            } else if line.hasPrefix("3tofu-hash ") {
                probe.hashTool = String(line.dropFirst("3tofu-hash ".count))
            } else if line.hasPrefix("3tofu-missing ") {
                probe.missing.append(String(line.dropFirst("3tofu-missing ".count)))
            }
        }
        return probe
    }
}
