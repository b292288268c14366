import Agreement
import Foundation

/// One vantage's attempt at a run's work: its answer or why it gave none, and how long it took.
struct VantageAttempt<Answer: Sendable>: Sendable {
    var vantage: Coordinator.VantageClient
    var result: Result<Answer, VantageFailure>
    var seconds: Double
}

/// The one fan-out of every command (pull, fetch, bottle, vantages check): the same work on every
/// vantage concurrently, each within its timeout; one failing or slow vantage neither cancels nor
/// delays the others.
enum VantageFanOut {
    /// One attempt per vantage, in the vantages' order; `finished` hears of each as it ends.
    static func attempt<Answer: Sendable>(
        _ clients: [Coordinator.VantageClient], timeout: Double, finished: (@Sendable (VantageAttempt<Answer>) -> Void)? = nil,
        _ work: @escaping @Sendable (Coordinator.VantageClient) async throws -> Answer
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

    /// A fetch's or a bottle's observer on every vantage: one `SubjectRun` per vantage. A vantage
    /// whose own sources contradict each other keeps what it saw, refused.
    /// `events` hears that they start and how each ends (names prefixed with `eventPrefix`).
    static func run<Subject: Observable>(
        _ clients: [Coordinator.VantageClient], timeout: Double, events: PullEventSink? = nil, eventPrefix: String = "",
        _ work: @escaping @Sendable (Coordinator.VantageClient) async throws -> VantageAnswer<Subject>
    ) async -> [SubjectRun<Subject>] {
        events?(.resolving(vantages: clients.map { eventPrefix + $0.spec.name }))
        @Sendable func finished(_ attempt: VantageAttempt<VantageAnswer<Subject>>) {
            let name = eventPrefix + attempt.vantage.spec.name
            switch attempt.result {
            case .success(let answer): events?(.vantageAnswered(name: name, digest: answer.subject.comparedItems.first?.value ?? ""))
            case .failure(let failure): events?(.vantageFailed(name: name, message: failure.message))
            }
        }
        return await attempt(clients, timeout: timeout, finished: finished, work).map { attempt in
            let vantage = attempt.vantage
            switch attempt.result {
            case .success(let answer):
                let failure = answer.inconsistency.map { VantageFailure(message: $0, isBadInput: false, isTampering: true) }
                return SubjectRun(
                    spec: vantage.spec, route: vantage.route, observed: answer.subject, failure: failure, evidence: answer.evidence, seconds: attempt.seconds)
            case .failure(let failure):
                return SubjectRun(spec: vantage.spec, route: vantage.route, observed: nil, failure: failure, evidence: nil, seconds: attempt.seconds)
            }
        }
    }

    /// The answering vantages' clients as download sources, this machine's first (usually the fastest route).
    static func preferredFirst(answering: Set<String>, clients: [Coordinator.VantageClient]) -> [Coordinator.VantageClient] {
        let sources = clients.filter { answering.contains($0.spec.name) }
        return sources.filter { $0.spec.kind == .local } + sources.filter { $0.spec.kind != .local }
    }

    static func preferredFirst<Subject>(_ runs: [SubjectRun<Subject>], clients: [Coordinator.VantageClient]) -> [Coordinator.VantageClient] {
        preferredFirst(answering: Set(runs.filter { $0.failure == nil && $0.observed != nil }.map(\.spec.name)), clients: clients)
    }
}
