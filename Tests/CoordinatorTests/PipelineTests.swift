import Agreement
import Configuration
@testable import Coordinator
import Foundation
import Registry
import Synchronization
import Testing
import Transport

/// The one verification pipeline, with observers and deliveries of the test's own: what it does
/// with each vantage's answer, when the delivery runs, and the one bounded window.
@Suite struct PipelineTests {
    static let sha256 = "sha256:" + String(repeating: "a", count: 64)
    static let other = "sha256:" + String(repeating: "b", count: 64)

    static func policy(minAgreeing: Int, maxUnavailable: Int) -> Policy {
        Policy(name: "test", description: "", minAgreeing: minAgreeing, maxUnavailable: maxUnavailable)
    }

    /// Vantages whose clients are never used by the test's observers (no network is touched).
    static func vantages(_ kinds: [(String, VantageSpec.Kind)]) throws -> [VantageClient] {
        try kinds.map { name, kind in
            let transport = try CurlTransport(configuration: TransportConfiguration(proxy: nil))
            return VantageClient(spec: VantageSpec(name: name, kind: kind), route: kind.rawValue, client: RegistryClient(transport: transport))
        }
    }

    static func file(_ sha256: String, published: String? = nil) -> ObservedFile {
        ObservedFile(url: "https://x.test/f", finalURL: "https://x.test/f", sha256: sha256, size: 1, publishedSHA256: published)
    }

    /// Each vantage answers what the table gives it: a file, an error, or nothing until cancelled.
    struct ScriptedObserver: SubjectObserver {
        enum Answer: Sendable {
            case file(ObservedFile)
            case error(CoordinatorError)
            case hang
        }
        let answers: [String: Answer]
        var usesPlainHTTP: Bool { false }

        func history(for runs: [SubjectRun<ObservedFile, String>]) -> TimeRules.History? { nil }

        func observe(through vantage: VantageClient) async throws -> VantageAnswer<ObservedFile, String> {
            switch answers[vantage.spec.name] ?? .hang {
            case .file(let file):
                return VantageAnswer(subject: file, payload: "from " + vantage.spec.name, evidence: nil, inconsistency: file.inconsistency)
            case .error(let error):
                throw error
            case .hang:
                // Runs until the pipeline's timeout cancels it.
                try await Task.sleep(for: .seconds(3600))
                throw CancellationError()
            }
        }
    }

    /// Counts its calls; optionally marks a vantage failed and takes the decision again.
    final class CountingDelivery: SubjectDelivery, @unchecked Sendable {
        let calls = Mutex(0)
        let failing: String?
        init(failing: String? = nil) { self.failing = failing }

        func deliver(_ verification: inout Verification<ObservedFile, String>) async throws -> [String] {
            calls.withLock { $0 += 1 }
            if let failing {
                verification.fail(failing, VantageFailure(message: "sent wrong bytes", isBadInput: false, isTampering: true))
                verification.decideAgain()
            }
            return verification.sources.map(\.name)
        }
    }

    @Test func everyVantageGivesOneRunInItsOrderWithWhatItBrought() async throws {
        let pipeline = Pipeline(
            vantages: try Self.vantages([("tor", .proxy), ("home", .local), ("vps", .ssh)]), timeout: 5, policy: Self.policy(minAgreeing: 2, maxUnavailable: 1))
        let verification = await pipeline.verify(ScriptedObserver(answers: [
            "tor": .file(Self.file(Self.sha256)), "home": .file(Self.file(Self.sha256)),
            "vps": .error(CoordinatorError(.notMet, "connection refused")),
        ]))
        #expect(verification.runs.map(\.spec.name) == ["tor", "home", "vps"])
        #expect(verification.runs.map(\.payload) == ["from tor", "from home", nil])
        #expect(verification.runs[2].failure == VantageFailure(message: "connection refused", isBadInput: false))
        #expect(verification.decision.verdict == .agree)
        // Download sources: the answering vantages, this machine's first.
        #expect(verification.sources.map(\.name) == ["home", "tor"])
    }

    @Test func aVantageWhoseSourcesContradictEachOtherIsRefusedButKeepsWhatItSaw() async throws {
        let pipeline = Pipeline(vantages: try Self.vantages([("a", .local), ("b", .proxy)]), timeout: 5, policy: Self.policy(minAgreeing: 1, maxUnavailable: 1))
        let verification = await pipeline.verify(ScriptedObserver(answers: [
            "a": .file(Self.file(Self.sha256)), "b": .file(Self.file(Self.sha256, published: Self.other)),
        ]))
        let refused = verification.runs[1]
        #expect(refused.observed != nil && refused.failure?.isTampering == true)
        guard case .contradicted(let seen, _) = refused.observation.outcome else {
            Issue.record("expected contradicted, got \(refused.observation.outcome)")
            return
        }
        #expect(seen.publishedSHA256 == Self.other)
        #expect(verification.decision.verdict == .disagree)
        #expect(verification.sources.map(\.name) == ["a"])
    }

    @Test func aVantageThatDoesNotAnswerInTimeFailsAndTheOthersAreNotHeldBack() async throws {
        let pipeline = Pipeline(vantages: try Self.vantages([("a", .local), ("slow", .proxy)]), timeout: 0.3, policy: Self.policy(minAgreeing: 1, maxUnavailable: 1))
        let verification = await pipeline.verify(ScriptedObserver(answers: ["a": .file(Self.file(Self.sha256)), "slow": .hang]))
        #expect(verification.runs[1].failure?.message.contains("slow") == true, "\(String(describing: verification.runs[1].failure))")
        #expect(verification.runs[1].failure?.isBadInput == false)
        #expect(verification.decision.verdict == .agree)
    }

    @Test(arguments: [
        // (answers, delivery runs?)
        (["a": Self.sha256, "b": Self.sha256], true),
        (["a": Self.sha256, "b": Self.other], false),
        (["a": Self.sha256], false),
    ])
    func theDeliveryRunsOnlyOnAgreement(files: [String: String], delivers: Bool) async throws {
        let pipeline = Pipeline(vantages: try Self.vantages([("a", .local), ("b", .proxy)]), timeout: 0.5, policy: Self.policy(minAgreeing: 2, maxUnavailable: 0))
        let delivery = CountingDelivery()
        let outcome = try await pipeline.run(ScriptedObserver(answers: files.mapValues { .file(Self.file($0)) }), delivery: delivery)
        #expect(delivery.calls.withLock { $0 } == (delivers ? 1 : 0))
        #expect((outcome.delivered != nil) == delivers)
        #expect((outcome.verification.decision.verdict == .agree) == delivers)
    }

    @Test func aDecisionTakenAgainInTheDeliveryIsTheOneReturned() async throws {
        let pipeline = Pipeline(vantages: try Self.vantages([("a", .local), ("b", .proxy)]), timeout: 5, policy: Self.policy(minAgreeing: 2, maxUnavailable: 0))
        let outcome = try await pipeline.run(
            ScriptedObserver(answers: ["a": .file(Self.file(Self.sha256)), "b": .file(Self.file(Self.sha256))]), delivery: CountingDelivery(failing: "b"))
        #expect(outcome.verification.decision.verdict == .disagree)
        #expect(outcome.delivered == ["a"])
        // The vantage failed in the delivery keeps no observation.
        #expect(outcome.verification.runs[1].observed == nil && outcome.verification.runs[1].failure?.isTampering == true)
    }

    @Test func aSetRunsEverySubjectOverTheSameVantagesInOrder() async throws {
        let pipeline = Pipeline(vantages: try Self.vantages([("a", .local), ("b", .proxy)]), timeout: 5, policy: Self.policy(minAgreeing: 2, maxUnavailable: 0))
        let subjects = [Self.sha256, Self.other, Self.sha256].map { ScriptedObserver(answers: ["a": .file(Self.file($0)), "b": .file(Self.file($0))]) }
        let finished = Mutex<[Int]>([])
        let outcomes = try await pipeline.runEach(subjects.map { ($0, CountingDelivery() as CountingDelivery?) }, width: 2) { index, _, _ in
            finished.withLock { $0.append(index) }
        }
        #expect(outcomes.map { $0.verification.decision.agreed?.sha256 } == [Self.sha256, Self.other, Self.sha256])
        #expect(finished.withLock { $0.sorted() } == [0, 1, 2])
        let verified = try await pipeline.verifyEach(subjects, width: 1)
        #expect(verified.map(\.decision.verdict) == [.agree, .agree, .agree])
    }
}

/// The one bounded sliding window.
@Suite struct BoundedWindowTests {
    actor Flight {
        var now = 0
        var most = 0
        func enter() { now += 1; most = max(most, now) }
        func leave() { now -= 1 }
    }

    @Test(arguments: [1, 2, 3, 8])
    func neverMoreThanTheWidthAtOnceAndResultsInOrder(width: Int) async throws {
        let flight = Flight()
        let outputs = try await BoundedWindow.map(Array(0..<20), width: width) { index, item in
            await flight.enter()
            for _ in 0..<(20 - item) { await Task.yield() }
            await flight.leave()
            return index * 10 + item
        }
        #expect(outputs == (0..<20).map { $0 * 11 })
        #expect(await flight.most <= width)
        #expect(await flight.most >= 1)
    }

    struct Failed: Error, Equatable { var item: Int }

    @Test func theFirstErrorIsThrownAndNoFurtherItemStarts() async throws {
        let started = Mutex<Set<Int>>([])
        await #expect(throws: Failed(item: 3)) {
            _ = try await BoundedWindow.map(Array(0..<50), width: 1) { _, item in
                started.withLock { _ = $0.insert(item) }
                if item == 3 { throw Failed(item: 3) }
                return item
            }
        }
        #expect(started.withLock { $0 } == [0, 1, 2, 3])
    }

    @Test func noItemsGiveNoOutputs() async throws {
        let outputs = try await BoundedWindow.map([Int](), width: 4) { _, item in item }
        #expect(outputs.isEmpty)
    }
}
