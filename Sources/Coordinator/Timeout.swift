/// Runs `operation`, giving up after `seconds`: the operation is cancelled (a curl transfer in
/// flight stops at its next progress callback) and a timeout error names the vantage.
func withTimeout<T: Sendable>(_ seconds: Double, vantage: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw CoordinatorError(.notMet, "vantage '\(vantage)' did not answer within \(Int(seconds)) s (--vantage-timeout)")
        }
        guard let first = try await group.next() else {
            throw CoordinatorError(.notMet, "vantage '\(vantage)' gave no answer")
        }
        group.cancelAll()
        return first
    }
}
