import Dispatch
import Foundation
import Transport

/// The SSH connection of one vantage: opened on first use, reused for every request, reopened
/// after it broke. Up to `SSHSession.maximumProcesses` requests run on it at once, each on a
/// thread of its own (blocking work stays off the cooperative thread pool) and a channel of its
/// own in the one session; the session makes its libssh2 calls one at a time (`SSHSession`).
/// Further requests wait for one of those to end.
public final class SSHConnection: @unchecked Sendable {
    public let target: SSHTarget
    private let queue: DispatchQueue
    private let gate = ExchangeGate(width: SSHSession.maximumProcesses)
    /// Guards `session` and `lastHostKey`.
    private let lock = NSLock()
    /// Held while the session is checked and, if need be, opened: one connection attempt at a time.
    private let connecting = NSLock()
    private var session: SSHSession?
    private var lastHostKey: HostKey?

    public init(target: SSHTarget) {
        self.target = target
        self.queue = DispatchQueue(label: "3tofu.ssh.\(target.host):\(target.port)", attributes: .concurrent)
    }

    /// The host key of the last successful connection (verified against known_hosts), if any.
    public var hostKey: HostKey? {
        lock.lock()
        defer { lock.unlock() }
        return lastHostKey
    }

    /// Runs `body` on a thread of the connection's with a connected session (connecting first if
    /// needed), once fewer than `SSHSession.maximumProcesses` others run. Task cancellation is
    /// passed on through `CancellationFlag`.
    func withSession<T: Sendable>(_ body: @escaping @Sendable (SSHSession, CancellationFlag) throws -> T) async throws -> T {
        try Task.checkCancellation()
        await gate.enter()
        let cancellation = CancellationFlag()
        let result: Result<T, any Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                queue.async {
                    continuation.resume(returning: Result { try self.run(body, cancellation) })
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
        await gate.leave()
        return try result.get()
    }

    private func run<T>(_ body: (SSHSession, CancellationFlag) throws -> T, _ cancellation: CancellationFlag) throws -> T {
        if cancellation.isCancelled { throw CancellationError() }
        let active = try current()
        defer {
            if active.isBroken {
                lock.lock()
                if session === active { session = nil }
                lock.unlock()
            }
        }
        return try body(active, cancellation)
    }

    /// The open session, or a new one if there is none or it broke.
    private func current() throws -> SSHSession {
        connecting.lock()
        defer { connecting.unlock() }
        lock.lock()
        let existing = session
        lock.unlock()
        if let existing, !existing.isBroken, existing.keepalive() { return existing }
        let fresh = try SSHSession.connect(target)
        lock.lock()
        session = fresh
        lastHostKey = fresh.hostKey
        lock.unlock()
        return fresh
    }

    /// Closes the session (if open); the next request connects again.
    public func close() async {
        lock.withLock { session = nil }
    }
}

/// At most `width` callers inside at once; the others wait in order.
actor ExchangeGate {
    private let width: Int
    private var inside = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(width: Int) { self.width = width }

    func enter() async {
        if inside < width {
            inside += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// The place goes to the first waiter, if any.
    func leave() {
        if waiting.isEmpty {
            inside -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
