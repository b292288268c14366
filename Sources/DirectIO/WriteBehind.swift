import Dispatch

/// Runs one write at a time on a queue of its own, so the caller can fill the next buffer while
/// the previous one goes to disk. `submit` waits for the write before it (so at most one is in
/// flight, and the buffer that write used is free again when `submit` returns); the first
/// failure is kept and thrown by the next `submit` or `drain`.
final class WriteBehind: @unchecked Sendable {
    // Safety: `failure` is written only by the queued work while it holds `idle`, and read only
    // by the caller after it has taken `idle`; the semaphore orders the two.
    private let queue = DispatchQueue(label: "3tofu.directio.write-behind", qos: .userInitiated)
    private let idle = DispatchSemaphore(value: 0)
    private var failure: DirectIOError?

    init() {
        // Signalled up from 0: libdispatch traps when a semaphore is freed below its initial value.
        idle.signal()
    }

    /// Waits for the previous write, then queues `work`; throws the previous write's failure.
    func submit(_ work: @escaping @Sendable () throws(DirectIOError) -> Void) throws(DirectIOError) {
        idle.wait()
        if let failure {
            idle.signal()
            throw failure
        }
        queue.async {
            do throws(DirectIOError) {
                try work()
            } catch {
                self.failure = error
            }
            self.idle.signal()
        }
    }

    /// Waits until nothing is in flight; throws the failure of any write so far.
    func drain() throws(DirectIOError) {
        idle.wait()
        defer { idle.signal() }
        if let failure { throw failure }
    }
}
