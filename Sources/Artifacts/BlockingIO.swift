import Dispatch
import Foundation

/// Runs blocking file work (hashing a large blob, an fsync, writing an archive) off Swift's
/// cooperative pool, so it does not hold one of its few threads for seconds.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "3tofu.artifacts.blocking-io", qos: .userInitiated, attributes: .concurrent)

    /// Short blocking work (a commit, a hash): on a Dispatch queue whose threads are few (about one
    /// per core), so nothing run here may wait for other work run here.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Long blocking work that waits for others (the archive writer, which waits for commits run by
    /// `run`): on a thread of its own, so it never takes a thread those commits need.
    public static func runOnOwnThread<T: Sendable>(named name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.start()
        }
    }
}
