import Agreement
import Foundation

/// One vantage's attempt at a run's work: its answer or why it gave none, and how long it took.
struct VantageAttempt<Answer: Sendable>: Sendable {
    var vantage: VantageClient
    var result: Result<Answer, VantageFailure>
    var seconds: Double
}

/// The one fan-out of every command (pull, fetch, bottle, vantages check): the same work on every
/// vantage concurrently, each within its timeout; one failing or slow vantage neither cancels nor
/// delays the others.
enum VantageFanOut {
    /// One attempt per vantage, in the vantages' order; `finished` hears of each as it ends.
    static func attempt<Answer: Sendable>(
        _ clients: [VantageClient], timeout: Double, finished: (@Sendable (VantageAttempt<Answer>) -> Void)? = nil,
        _ work: @escaping @Sendable (VantageClient) async throws -> Answer
    ) async -> [VantageAttempt<Answer>] {
        await inOrder(clients) { vantage in
            let start = Date()
            let result: Result<Answer, VantageFailure>
            do {
                result = .success(try await withTimeout(timeout, vantage: vantage.spec.name) { try await work(vantage) })
            } catch {
                result = .failure(VantageFailure(error))
            }
            let attempt = VantageAttempt(vantage: vantage, result: result, seconds: Date().timeIntervalSince(start))
            finished?(attempt)
            return attempt
        }
    }

    /// `work` on every item at once; the results in the items' order.
    static func inOrder<Item: Sendable, Output: Sendable>(_ items: [Item], _ work: @escaping @Sendable (Item) async -> Output) async -> [Output] {
        await withTaskGroup(of: (Int, Output).self) { group in
            for (index, item) in items.enumerated() {
                group.addTask { (index, await work(item)) }
            }
            var outputs: [(Int, Output)] = []
            for await output in group { outputs.append(output) }
            return outputs.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
