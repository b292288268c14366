@testable import Coordinator
import OCI
import Testing

/// `LayerGate.StateMachine` replayed event by event, without threads or a store: which download
/// gets a feed, what the writer waits for, takes, or reads from the store, and when it stops.
/// Layers are numbers; a layer's feed is its number.
@Suite struct LayerGateStateMachineTests {
    /// One event; its default description (`offer(8)`) names it in a failure.
    enum Event: Sendable {
        case planned([Int])
        case running(Int)
        case start(Int, fromFirstByte: Bool = true)
        /// The writer reaches the layer (`liveLayer`); `stored`: the store holds it.
        case reaches(Int, stored: Bool = false)
        /// The writer needs the layer from the store (`wait(for:)`).
        case needs(Int, stored: Bool = false)
        case close
        case abort
        case writerLeaves
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var streamsToWriter = true
        /// Each event and what it returns in a few words ("" for an event that returns nothing).
        let steps: [(Event, String)]
        var testDescription: String { name }
    }

    static func digest(_ n: Int) -> Digest {
        try! Digest(parsing: "sha256:" + String(repeating: String(n % 10), count: 64))
    }

    static func apply(_ event: Event, to machine: inout LayerGate.StateMachine<Int>) -> String {
        switch event {
        case .planned(let layers):
            machine.fetchPlanned(Set(layers.map(digest)))
            return ""
        case .running(let count):
            machine.downloadsRunning(count)
            return ""
        case .start(let layer, let first):
            return machine.downloadStarting(digest(layer), fromFirstByte: first) { layer }.map { "feed \($0)" } ?? "none"
        case .reaches(let layer, let stored):
            switch machine.writerReaches(digest(layer), stored: stored) {
            case .wait: return "wait"
            case .takeLive(let feed): return "live \(feed)"
            case .readFromStore: return "store"
            }
        case .needs(let layer, let stored):
            return "\(machine.writerNeeds(digest(layer), stored: stored))"
        case .close:
            machine.close()
            return ""
        case .abort:
            machine.abort()
            return ""
        case .writerLeaves:
            return "abandon \(machine.writerLeaves())"
        }
    }

    static let cases: [Case] = [
        Case(name: "the first download from the first byte gets a feed the writer claims once", steps: [
            (.running(1), ""),
            (.start(1), "feed 1"),
            (.start(1), "none"),  // the same layer from another vantage
            (.reaches(1), "live 1"),
            (.close, ""),
            (.reaches(1), "store"),
        ]),
        Case(name: "a resumed partial has bytes the writer never saw: no feed", steps: [
            (.running(1), ""), (.start(2, fromFirstByte: false), "none"), (.reaches(2), "store"),
        ]),
        Case(name: "an OCI layout takes nothing live", streamsToWriter: false, steps: [
            (.running(1), ""), (.start(3), "none"), (.reaches(3), "store"),
        ]),
        Case(name: "while downloads overlap only the layer the writer waits for gets a feed", steps: [
            (.running(2), ""),
            (.start(5), "none"),  // ahead of the writer: to the store alone
            (.reaches(4), "wait"),
            (.start(4), "feed 4"),
            (.reaches(4), "live 4"),
        ]),
        Case(name: "a writer that stopped waiting for a layer no longer draws a feed to it", steps: [
            (.reaches(4), "wait"),
            (.reaches(4, stored: true), "store"),
            (.running(2), ""),
            (.start(4), "none"),
        ]),
        Case(name: "no new feed while an earlier one waits unclaimed", steps: [
            (.running(1), ""),
            (.start(1), "feed 1"),
            (.start(2), "none"),
            (.reaches(1), "live 1"),
            (.start(3), "feed 3"),
        ]),
        Case(name: "the writer waits for a download that has not started until the gate closes", steps: [
            (.running(1), ""),
            (.start(6), "feed 6"),
            (.reaches(7), "wait"),
            (.close, ""),
            (.reaches(7), "store"),
            (.writerLeaves, "abandon [6]"),
            (.start(8), "none"),
        ]),
        Case(name: "a writer that leaves releases every feed, claimed or not", steps: [
            (.running(1), ""),
            (.start(1), "feed 1"),
            (.reaches(1), "live 1"),
            (.start(2), "feed 2"),
            (.writerLeaves, "abandon [1, 2]"),
            (.reaches(2), "store"),
            (.start(3), "none"),
        ]),
        Case(name: "no feed once the fetch is over", steps: [
            (.close, ""), (.start(1), "none"),
        ]),
        Case(name: "closing lets a waiting writer go on to report what is missing", steps: [
            (.needs(9), "wait"), (.close, ""), (.needs(9), "proceed"),
        ]),
        Case(name: "aborting stops the writer, stored or not", steps: [
            (.needs(9), "wait"), (.abort, ""), (.needs(9), "cancel"), (.needs(1, stored: true), "cancel"),
        ]),
        Case(name: "an aborted fetch hands out no live layer", steps: [
            (.running(1), ""), (.start(1), "feed 1"), (.abort, ""), (.reaches(1), "store"), (.reaches(2), "store"),
        ]),
        Case(name: "a stored layer is read at once", steps: [
            (.needs(1, stored: true), "proceed"), (.reaches(1, stored: true), "store"),
        ]),
        Case(name: "a layer the fetch did not plan and the store lost is not waited for", steps: [
            (.needs(1), "wait"), (.reaches(1), "wait"),  // before the fetch has looked
            (.planned([2]), ""),
            (.needs(1), "proceed"), (.reaches(1), "store"),
            (.needs(2), "wait"), (.reaches(2), "wait"),
        ]),
        Case(name: "an unplanned layer whose download started anyway is waited for", steps: [
            (.planned([]), ""), (.running(1), ""), (.start(1, fromFirstByte: false), "none"), (.needs(1), "wait"),
        ]),
    ]

    @Test(arguments: cases)
    func replay(_ scenario: Case) {
        var machine = LayerGate.StateMachine<Int>(streamsToWriter: scenario.streamsToWriter)
        for (index, (event, expected)) in scenario.steps.enumerated() {
            let got = Self.apply(event, to: &machine)
            #expect(got == expected, "step \(index + 1), \(event)")
        }
    }
}
