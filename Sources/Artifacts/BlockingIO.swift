import Dispatch

/// Runs blocking file work (hashing a large blob, writing an archive) on a Dispatch queue, so
/// it does not hold one of the few threads of Swift's cooperative pool for seconds.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "3tofu.artifacts.blocking-io", qos: .userInitiated, attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
