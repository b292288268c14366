import Agreement
import Configuration
import Foundation
import Registry
import Transport

/// How a vantage observes one kind of subject. With its `SubjectDelivery`, the only thing that
/// differs between a pull, a fetch and a bottle: the pipeline does the rest the same way for all.
protocol SubjectObserver: Sendable {
    associatedtype Subject: Recordable
    /// What a vantage brings besides its observation that the delivery needs (an image's resolution).
    associatedtype Payload: Sendable
    /// Plain HTTP is used for this subject (a policy may forbid it).
    var usesPlainHTTP: Bool { get }
    /// One vantage's view of the subject, within the pipeline's timeout.
    func observe(through vantage: VantageClient) async throws -> VantageAnswer<Subject, Payload>
    /// The earlier runs the policy's time rules count for what the vantages saw (a bottle's
    /// version is known only once they answered); nil when none were read.
    func history(for runs: [SubjectRun<Subject, Payload>]) -> TimeRules.History?
}

/// What happens to an agreed subject: download it once and write it, or have every vantage hash
/// it. Called only when the verdict is agreement; it may take the decision again with what it
/// learned (every vantage's hashes), and must then write nothing unless it is still agreement.
protocol SubjectDelivery: Sendable {
    associatedtype Subject: Recordable
    associatedtype Payload: Sendable
    associatedtype Delivered: Sendable
    func deliver(_ verification: inout Verification<Subject, Payload>) async throws -> Delivered
}

/// One vantage of a run: its settings, its route as the report names it, and its client, built
/// once for the whole run and used by every phase (an SSH vantage holds one session).
struct VantageClient: Sendable {
    var spec: VantageSpec
    var route: String
    var client: RegistryClient
}

/// One subject's verification: every vantage's part and the decision on them.
struct Verification<Subject: Recordable, Payload: Sendable>: Sendable {
    var runs: [SubjectRun<Subject, Payload>]
    var decision: Decision<Subject>
    let policy: Policy
    let usesPlainHTTP: Bool
    /// The earlier runs the policy's time rules count (nil: none read).
    let history: TimeRules.History?
    /// The run's vantages, for the delivery's downloads.
    let vantages: [VantageClient]

    init(runs: [SubjectRun<Subject, Payload>], policy: Policy, usesPlainHTTP: Bool, history: TimeRules.History?, vantages: [VantageClient]) {
        self.runs = runs
        self.policy = policy
        self.usesPlainHTTP = usesPlainHTTP
        self.history = history
        self.vantages = vantages
        decision = Self.decide(runs, policy: policy, usesPlainHTTP: usesPlainHTTP, history: history)
    }

    /// The decision taken again on what the runs hold now.
    mutating func decideAgain() {
        decision = Self.decide(runs, policy: policy, usesPlainHTTP: usesPlainHTTP, history: history)
    }

    /// The one place a decision is taken: what the vantages saw (`Agreement`), then what the
    /// earlier runs allow (the policy's time rules, which can only turn an agreement down).
    static func decide(_ runs: [SubjectRun<Subject, Payload>], policy: Policy, usesPlainHTTP: Bool, history: TimeRules.History?) -> Decision<Subject> {
        TimeRules.apply(Agreement.decide(runs.map(\.observation), policy: policy, usedInsecureRegistry: usesPlainHTTP), history: history, policy: policy)
    }

    /// A download source: an answering vantage and what it brought.
    struct Source: Sendable {
        var vantage: VantageClient
        var payload: Payload?
        var name: String { vantage.spec.name }
        var client: RegistryClient { vantage.client }
    }

    /// The answering vantages, this machine's first (it is usually the fastest route).
    var sources: [Source] {
        let answering = Dictionary(runs.filter(\.answered).map { ($0.spec.name, $0) }, uniquingKeysWith: { first, _ in first })
        let ordered = vantages.filter { $0.spec.kind == .local } + vantages.filter { $0.spec.kind != .local }
        return ordered.compactMap { vantage in answering[vantage.spec.name].map { Source(vantage: vantage, payload: $0.payload) } }
    }

    /// Marks a vantage failed in the delivery phase (it keeps its evidence, not its observation).
    mutating func fail(_ name: String, _ failure: VantageFailure) {
        for index in runs.indices where runs[index].spec.name == name { runs[index].fail(failure) }
    }
}

/// The one verification pipeline of every command: the vantages' clients built once per run;
/// the subject observed on every vantage at once (`VantageFanOut`), one observation each;
/// `Agreement` decides; on agreement the subject's delivery runs. A set (a bundle's images, a
/// bottle run's formulae) is many subjects over the same vantages, a few at a time.
struct Pipeline: Sendable {
    let vantages: [VantageClient]
    /// Seconds one vantage may take to observe a subject.
    let timeout: Double
    let policy: Policy
    let events: PullEventSink?

    init(vantages: [VantageClient], timeout: Double, policy: Policy, events: PullEventSink? = nil) {
        self.vantages = vantages
        self.timeout = timeout
        self.policy = policy
        self.events = events
    }

    /// The pipeline over freshly built clients for `specs`.
    init(
        _ specs: [VantageSpec], caCertificatePath: String?, insecureRegistries: Set<String>, credentials: RegistryCredentials, timeout: Double,
        policy: Policy, events: PullEventSink? = nil
    ) throws {
        let clients = try VantageClients.make(
            specs, caCertificatePath: caCertificatePath, insecureRegistries: insecureRegistries, credentials: credentials, timeout: timeout)
        self.init(vantages: clients, timeout: timeout, policy: policy, events: events)
    }

    /// Every vantage observes the subject; the decision on what they saw. Progress names each
    /// vantage after `label` ("wget/tor" in a set of formulae).
    func verify<Observer: SubjectObserver>(_ observer: Observer, label: String = "") async -> Verification<Observer.Subject, Observer.Payload> {
        events?(.resolving(vantages: vantages.map { label + $0.spec.name }))
        let events = events
        let attempts = await VantageFanOut.attempt(vantages, timeout: timeout, finished: { attempt in
            let name = label + attempt.vantage.spec.name
            switch attempt.result {
            case .success(let answer):
                events?(.vantageAnswered(name: name, digest: answer.subject.comparedItems.first?.value ?? ""))
            case .failure(let failure):
                events?(.vantageFailed(name: name, message: failure.message))
            }
        }) { vantage in
            try await observer.observe(through: vantage)
        }
        let runs = attempts.map { attempt in
            let vantage = attempt.vantage
            switch attempt.result {
            case .success(let answer):
                let failure = answer.inconsistency.map { VantageFailure(message: $0, isBadInput: false, isTampering: true) }
                return SubjectRun(
                    spec: vantage.spec, route: vantage.route, observed: answer.subject, payload: answer.payload, failure: failure,
                    evidence: answer.evidence, seconds: attempt.seconds)
            case .failure(let failure):
                return SubjectRun<Observer.Subject, Observer.Payload>(
                    spec: vantage.spec, route: vantage.route, observed: nil, failure: failure, evidence: nil, seconds: attempt.seconds)
            }
        }
        return Verification(runs: runs, policy: policy, usesPlainHTTP: observer.usesPlainHTTP, history: observer.history(for: runs), vantages: vantages)
    }

    /// One subject through the whole pipeline: verified, then (on agreement, with a delivery)
    /// delivered. Progress names each vantage after `label` (see `verify`).
    func run<Observer: SubjectObserver, Delivery: SubjectDelivery>(
        _ observer: Observer, delivery: Delivery?, label: String = ""
    ) async throws -> (verification: Verification<Observer.Subject, Observer.Payload>, delivered: Delivery.Delivered?)
    where Delivery.Subject == Observer.Subject, Delivery.Payload == Observer.Payload {
        var verification = await verify(observer, label: label)
        guard verification.decision.verdict == .agree, let delivery else { return (verification, nil) }
        let delivered = try await delivery.deliver(&verification)
        return (verification, delivered)
    }

    /// Several subjects over the same vantages (a bundle's images), each through the whole
    /// pipeline, at most `width` at once; results in the order given. `finished` hears of each
    /// as it ends (its index).
    func runEach<Observer: SubjectObserver, Delivery: SubjectDelivery>(
        _ subjects: [(observer: Observer, delivery: Delivery?)], width: Int, labels: [String]? = nil,
        finished: (@Sendable (Int, Verification<Observer.Subject, Observer.Payload>, Delivery.Delivered?) -> Void)? = nil
    ) async throws -> [(verification: Verification<Observer.Subject, Observer.Payload>, delivered: Delivery.Delivered?)]
    where Delivery.Subject == Observer.Subject, Delivery.Payload == Observer.Payload {
        // Each subject's own progress would interleave: with `labels`, each vantage is named
        // after its subject; without, the set reports per subject instead.
        let pipeline = labels == nil ? Pipeline(vantages: vantages, timeout: timeout, policy: policy) : self
        return try await BoundedWindow.map(subjects, width: width) { index, subject in
            let outcome = try await pipeline.run(subject.observer, delivery: subject.delivery, label: labels.map { $0[index] + "/" } ?? "")
            finished?(index, outcome.verification, outcome.delivered)
            return outcome
        }
    }

    /// Several subjects over the same vantages (a bottle run's formulae), verified only, at most
    /// `width` at once; results in the order given. The set's delivery is the caller's. With
    /// `labels` (one per subject), progress names each vantage after its subject's label.
    func verifyEach<Observer: SubjectObserver>(
        _ observers: [Observer], width: Int, labels: [String]? = nil
    ) async throws -> [Verification<Observer.Subject, Observer.Payload>] {
        let pipeline = labels == nil ? Pipeline(vantages: vantages, timeout: timeout, policy: policy) : self
        return try await BoundedWindow.map(observers, width: width) { index, observer in
            await pipeline.verify(observer, label: labels.map { $0[index] + "/" } ?? "")
        }
    }
}

/// The one bounded sliding window of the package: `work` on every item, at most `width` at a
/// time (the next starts as soon as one ends), results in the items' order. The first error
/// cancels the rest and is thrown.
enum BoundedWindow {
    static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], width: Int, _ work: @escaping @Sendable (Int, Item) async throws -> Output
    ) async throws -> [Output] {
        try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            var pending = items.enumerated().makeIterator()
            func startNext() {
                guard let (index, item) = pending.next() else { return }
                group.addTask { (index, try await work(index, item)) }
            }
            for _ in 0..<max(1, width) { startNext() }
            var outputs: [(Int, Output)] = []
            outputs.reserveCapacity(items.count)
            while let finished = try await group.next() {
                outputs.append(finished)
                startNext()
            }
            return outputs.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}

/// The vantages' clients of a run, built once and used by every phase of it.
enum VantageClients {
    static func make(
        _ vantages: [VantageSpec], caCertificatePath: String?, insecureRegistries: Set<String>, credentials: RegistryCredentials, timeout: Double
    ) throws -> [VantageClient] {
        guard !vantages.isEmpty else {
            throw CoordinatorError(.badInput, "no vantages configured")
        }
        return try vantages.map { spec in
            try make(spec, caCertificatePath: caCertificatePath, insecureRegistries: insecureRegistries, credentials: credentials, timeout: timeout)
        }
    }

    /// One vantage's transport (direct, through its proxy, or curl on an SSH host; its CAs) and registry client.
    static func make(
        _ spec: VantageSpec, caCertificatePath: String?, insecureRegistries: Set<String>, credentials: RegistryCredentials, timeout: Double
    ) throws -> VantageClient {
        var configuration: TransportConfiguration
        switch spec.kind {
        case .local:
            configuration = TransportConfiguration(proxy: nil)
        case .proxy:
            configuration = TransportConfiguration(proxy: spec.proxy)
        case .ssh:
            // curl or `3tofu agent` on the remote host does the fetching; the session connects on first use.
            let transport = try SSHVantage.httpTransport(spec, caCertificatePath: caCertificatePath, timeout: timeout)
            let client = RegistryClient(transport: transport, credentials: credentials, insecureRegistries: insecureRegistries, label: spec.name)
            return VantageClient(spec: spec, route: transport.route, client: client)
        }
        configuration.extraCACertificatesPath = try CABundles.combined([caCertificatePath, spec.caCert].compactMap { $0 })
        configuration.connectTimeout = min(configuration.connectTimeout, timeout)
        try TransportTuning.apply(ProcessInfo.processInfo.environment, to: &configuration)
        let transport: CurlTransport
        do {
            transport = try CurlTransport(configuration: configuration)
        } catch {
            throw CoordinatorError(.badInput, "vantage '\(spec.name)': \(error)")
        }
        let client = RegistryClient(transport: transport, credentials: credentials, insecureRegistries: insecureRegistries, label: spec.name)
        return VantageClient(spec: spec, route: transport.route, client: client)
    }
}
