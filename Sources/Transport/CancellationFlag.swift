import Foundation

/// Set from any thread when the awaiting task is cancelled; read by the thread doing the blocking
/// work (libcurl's progress callback, an SSH session waiting on its socket). Every transport's one
/// cancellation flag.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }
}
