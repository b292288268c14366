import Dispatch
import Foundation
import Transport

/// The SSH connection of one vantage: opened on first use, reused for every request, reopened
/// after it broke. Every libssh2 call happens on this connection's serial queue, so the session
/// is never touched by two threads, and blocking work stays off the cooperative thread pool.
public final class SSHConnection: @unchecked Sendable {
    public let target: SSHTarget
    private let queue: DispatchQueue
    /// Only touched on `queue`.
    private var session: SSHSession?
    private let lock = NSLock()
    private var lastHostKey: HostKey?

    public init(target: SSHTarget) {
        self.target = target
        self.queue = DispatchQueue(label: "3tofu.ssh.\(target.host):\(target.port)")
    }

    /// The host key of the last successful connection (verified against known_hosts), if any.
    public var hostKey: HostKey? {
        lock.lock()
        defer { lock.unlock() }
        return lastHostKey
    }

    /// Runs `body` on the connection's queue with a connected session (connecting first if needed).
    /// Task cancellation is passed on through `CancellationFlag`.
    func withSession<T: Sendable>(_ body: @escaping @Sendable (SSHSession, CancellationFlag) throws -> T) async throws -> T {
        try Task.checkCancellation()
        let cancellation = CancellationFlag()
        let result: Result<T, any Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    continuation.resume(returning: Result { try self.onQueue(body, cancellation) })
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        return try result.get()
    }

    private func onQueue<T>(_ body: (SSHSession, CancellationFlag) throws -> T, _ cancellation: CancellationFlag) throws -> T {
        dispatchPrecondition(condition: .onQueue(queue))
        if let current = session, current.isBroken || !current.keepalive() {
            session = nil
        }
        let active: SSHSession
        if let current = session {
            active = current
        } else {
            active = try SSHSession.connect(target)
            session = active
            lock.lock()
            lastHostKey = active.hostKey
            lock.unlock()
        }
        defer {
            if active.isBroken { session = nil }
        }
        return try body(active, cancellation)
    }

    /// Closes the session (if open); the next request connects again.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.session = nil
                continuation.resume()
            }
        }
    }
}
