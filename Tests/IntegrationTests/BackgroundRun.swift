import Foundation

/// Runs blocking work (a whole CLI run) on a thread of its own, so that a test can act on the
/// run while it is under way (drop a connection at a point it chose) and then wait for its end.
final class BackgroundRun<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var outcome: Result<Value, any Error>?
    private var waiter: CheckedContinuation<Value, any Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        Thread { [self] in
            let outcome = Result { try work() }
            lock.lock()
            self.outcome = outcome
            let waiter = self.waiter
            self.waiter = nil
            lock.unlock()
            waiter?.resume(with: outcome)
        }.start()
    }

    /// Whether the work has ended.
    var isFinished: Bool { lock.withLock { outcome != nil } }

    /// What the work returned or threw, once it ends.
    func value() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let outcome {
                lock.unlock()
                continuation.resume(with: outcome)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }
}
