import Foundation
import Transport

/// What one exchange over an SSH vantage's session needs from the receiver of the remote
/// command's output (`RemoteBodyReceiver` for the remote curl, `AgentReplyReceiver` for
/// `3tofu agent`). Both are used on the connection's queue only.
protocol RemoteReplyReceiver: AnyObject, SendableMetatype {
    /// The process's stdout during this exchange.
    func receive(_ bytes: UnsafeRawBufferPointer) throws
    /// The process's stderr during this exchange.
    func receiveStderr(_ bytes: UnsafeRawBufferPointer) throws
    /// The whole reply arrived: the long-lived process now waits for the next request.
    var isComplete: Bool { get }
    /// Writes out and closes the body's file, if any; later calls do nothing.
    func closeFile() throws
}

/// The part both SSH transports share: how the body travels, and one run of the remote command
/// with its stdout fed to a fresh receiver.
enum RemoteExchange {
    /// A GET into `.discard` is hashed on the remote (only the SHA-256 and size come back); every
    /// other body streams back, into memory up to `memoryLimit` for `.memory`.
    static func bodyTravel(_ request: HTTPRequest, into destination: BodyDestination) -> (hashOnRemote: Bool, memoryLimit: Int?) {
        switch destination {
        case .discard where request.method == .get: (true, nil)
        case .memory(let limit): (false, limit)
        default: (false, nil)
        }
    }

    /// Sends `stdin` to the vantage's long-lived process running `command` (started on first use
    /// in the session, and again if it ended), its output fed to a receiver made for this
    /// exchange until the receiver has the whole reply, and turns what came back into a response
    /// with `respond`, adding the session's host key to the evidence. A process that ends before
    /// its reply is complete leaves its exit status to `respond`, as a one-shot command did. A lost
    /// or timed-out SSH connection becomes the `TransportError` the registry client retries on.
    static func run<Receiver: RemoteReplyReceiver>(
        _ command: String, stdin: Data, on connection: SSHConnection, shownURL: String,
        receiver makeReceiver: @escaping @Sendable () -> Receiver, respond: @escaping @Sendable (SSHSession.ExecResult, Receiver) throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        let route = connection.target.route
        do {
            return try await connection.withSession { session, cancellation in
                var receiver = makeReceiver()
                // After a failure, what was received still reaches the file for a resume.
                defer { try? receiver.closeFile() }
                var result = try session.exchange(
                    command, stdin: stdin, cancellation: cancellation, stdout: { try receiver.receive($0) },
                    stderr: { try receiver.receiveStderr($0) }, isComplete: { receiver.isComplete })
                if result.endedBeforeAnswering {
                    // The process died while idle, unseen: once more, with a new one.
                    try? receiver.closeFile()
                    receiver = makeReceiver()
                    result = try session.exchange(
                        command, stdin: stdin, cancellation: cancellation, stdout: { try receiver.receive($0) },
                        stderr: { try receiver.receiveStderr($0) }, isComplete: { receiver.isComplete })
                }
                // A buffered tail that cannot be written fails the exchange.
                try receiver.closeFile()
                do {
                    var response = try respond(result, receiver)
                    response.evidence.sshHostKey = session.hostKey.fingerprint
                    return response
                } catch var error as TransportError {
                    // A failed exchange keeps which host ran it, for the report.
                    error.evidence?.sshHostKey = session.hostKey.fingerprint
                    throw error
                }
            }
        } catch let error as SSHError where error.kind == .connectionLost {
            throw TransportError(kind: .connect, url: shownURL, detail: "SSH vantage \(route): \(error.message)")
        } catch let error as SSHError where error.kind == .timeout {
            throw TransportError(kind: .timeout, url: shownURL, detail: "SSH vantage \(route): \(error.message)")
        }
    }

    /// Runs a step of an exchange's `ResponseBodySink`; its failure becomes the exchange's error
    /// (the URL without credentials, the vantage's route).
    static func bodyStep<T>(url shownURL: String, route: String, _ step: () throws(ResponseBodySink.Failure) -> T) throws(TransportError) -> T {
        do {
            return try step()
        } catch {
            throw error.error(url: shownURL, via: route)
        }
    }
}
