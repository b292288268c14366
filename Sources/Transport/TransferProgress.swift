import Foundation

/// How far the body of a transfer has come, for a progress display: bytes of the current 2xx
/// body received and the length it announced. A task sets one as `TransferProgress.current`
/// around the requests it wants to watch; libcurl's transport counts into it as bytes arrive (a
/// retry or a redirect's next body starts it again). A transport that does not see the body
/// (an SSH vantage hashes it on the remote) leaves it at zero.
public final class TransferProgress: @unchecked Sendable {
    /// The counter the requests of the current task report to, if any.
    @TaskLocal public static var current: TransferProgress?

    private let lock = NSLock()
    private var received: Int64 = 0
    private var expected: Int64?
    private var started = false

    public init() {}

    /// A 2xx body begins; `expected` is its announced length, if any.
    func begin(expected: Int64?) {
        lock.withLock {
            received = 0
            self.expected = expected
            started = true
        }
    }

    func add(_ count: Int) {
        lock.withLock { received += Int64(count) }
    }

    /// Bytes received so far, the announced length, and whether a body has begun at all.
    public var snapshot: (received: Int64, expected: Int64?, started: Bool) {
        lock.withLock { (received, expected, started) }
    }
}
