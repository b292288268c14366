@testable import Coordinator
import Foundation
import Testing

/// `LayerFeed.StateMachine` replayed event by event, without threads or clocks: who waits for
/// whom, what the writer is handed, and when the feed is given up.
@Suite struct LayerFeedStateMachineTests {
    /// One event into the machine; pieces are `n` bytes of the value `n`. Its default
    /// description (`offer(8)`) names it in a failure.
    enum Event: Sendable {
        case begin(appending: Bool)
        case arrive(Int)
        case offer(Int)
        case patienceRanOut(piece: Int, othersRunning: Bool)
        case take
        case verified
        case abandon
        case heldBack
    }

    /// A sequence of events and what each returns, in a few words.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        var expectedSize: Int64?
        var capacity = 16
        let steps: [(Event, String)]
        var testDescription: String { name }
    }

    static func piece(_ size: Int) -> Data {
        Data(repeating: UInt8(size % 256), count: size)
    }

    static func apply(_ event: Event, to machine: inout LayerFeed.StateMachine) -> String {
        switch event {
        case .begin(let appending): "\(machine.bodyBegins(appending: appending))"
        case .arrive(let count): "\(machine.bytesArrive(count))"
        case .offer(let size): "\(machine.offer(piece(size)))"
        case .patienceRanOut(let size, let others): "\(machine.patienceRanOut(piece(size), othersRunning: others))"
        case .take:
            switch machine.writerTakes() {
            case .bytes(let data): data == piece(data.count) ? "bytes(\(data.count))" : "wrong bytes"
            case let other: "\(other)"
            }
        case .verified: "\(machine.verified())"
        case .abandon: "\(machine.abandon())"
        case .heldBack: "\(machine.takeHeldBack())"
        }
    }

    static let cases: [Case] = [
        Case(name: "pieces queue in order and the layer ends only once verified", capacity: 64, steps: [
            (.begin(appending: false), "nobody"),
            (.offer(8), "queued"), (.offer(4), "queued"),
            (.take, "bytes(8)"), (.take, "bytes(4)"),
            (.take, "waitForBytes"),
            (.verified, "everyone"),
            (.take, "verified"),
        ]),
        Case(name: "bytes queued before the verdict are handed over before it", capacity: 64, steps: [
            (.offer(8), "queued"), (.verified, "everyone"), (.offer(3), "dropped"),
            (.take, "bytes(8)"), (.take, "verified"),
        ]),
        Case(name: "a full feed the writer has not reached waits for it or for patience", steps: [
            (.offer(8), "queued"), (.offer(8), "queued"),
            (.offer(8), "waitForWriterOrPatience"),
            (.heldBack, "true"), (.heldBack, "false"),
            (.take, "bytes(8)"),
            (.offer(8), "queued"),
        ]),
        Case(name: "a full feed the writer reads waits for it without patience", steps: [
            (.take, "waitForBytes"),
            (.offer(8), "queued"), (.offer(8), "queued"),
            (.offer(8), "waitForWriter"), (.heldBack, "true"),
        ]),
        Case(name: "a single piece larger than the capacity passes an empty queue", steps: [
            (.offer(40), "queued"), (.offer(1), "waitForWriterOrPatience"), (.take, "bytes(40)"), (.offer(1), "queued"),
        ]),
        Case(name: "out of patience while others run: given up, the writer reads the store", steps: [
            (.offer(8), "queued"), (.offer(8), "queued"), (.offer(8), "waitForWriterOrPatience"),
            (.patienceRanOut(piece: 8, othersRunning: true), "gaveUp"),
            (.offer(8), "dropped"),
            (.take, "abandoned"),
        ]),
        Case(name: "out of patience while alone: the download keeps waiting", steps: [
            (.offer(8), "queued"), (.offer(8), "queued"), (.offer(8), "waitForWriterOrPatience"),
            (.patienceRanOut(piece: 8, othersRunning: false), "waitForWriterOrPatience"),
            (.take, "bytes(8)"),
        ]),
        Case(name: "out of patience after the writer came: it waits for the writer", steps: [
            (.offer(8), "queued"), (.offer(8), "queued"), (.offer(16), "waitForWriterOrPatience"),
            (.take, "bytes(8)"),
            (.patienceRanOut(piece: 16, othersRunning: true), "waitForWriter"),
        ]),
        Case(name: "out of patience just as room was made: the piece is queued", steps: [
            (.offer(8), "queued"), (.offer(8), "queued"), (.offer(8), "waitForWriterOrPatience"),
            (.take, "bytes(8)"),
            (.patienceRanOut(piece: 8, othersRunning: true), "queued"),
        ]),
        Case(name: "a second body abandons the feed", steps: [
            (.begin(appending: false), "nobody"), (.offer(8), "queued"),
            (.begin(appending: true), "everyone"),
            (.offer(8), "dropped"), (.verified, "everyone"), (.take, "abandoned"),
        ]),
        Case(name: "a body that appends to a partial file is never handed over", steps: [
            (.begin(appending: true), "everyone"), (.arrive(8), "ignore"), (.take, "abandoned"),
        ]),
        Case(name: "bytes beyond the layer's size abandon the feed", expectedSize: 20, steps: [
            (.arrive(16), "gather"), (.offer(16), "queued"),
            (.arrive(16), "gaveUp"), (.arrive(1), "ignore"),
            (.verified, "everyone"), (.take, "abandoned"),
        ]),
        Case(name: "abandon frees the queue and releases the download", steps: [
            (.offer(8), "queued"), (.offer(8), "queued"), (.offer(8), "waitForWriterOrPatience"),
            (.abandon, "everyone"),
            (.offer(8), "dropped"),
            (.take, "abandoned"),
        ]),
        Case(name: "abandon after the verdict changes nothing", steps: [
            (.offer(8), "queued"), (.verified, "everyone"), (.abandon, "everyone"), (.take, "bytes(8)"), (.take, "verified"),
        ]),
    ]

    @Test(arguments: cases)
    func replay(_ scenario: Case) {
        var machine = LayerFeed.StateMachine(expectedSize: scenario.expectedSize, capacity: scenario.capacity)
        for (index, (event, expected)) in scenario.steps.enumerated() {
            let got = Self.apply(event, to: &machine)
            #expect(got == expected, "step \(index + 1), \(event)")
        }
    }

    @Test func abandoningEmptiesTheQueue() {
        var machine = LayerFeed.StateMachine(expectedSize: nil, capacity: 16)
        _ = machine.offer(Self.piece(8))
        #expect(machine.queuedBytes == 8)
        _ = machine.abandon()
        #expect(machine.queuedBytes == 0, "an abandoned feed holds no memory")
        #expect(machine.phase == .abandoned)
    }
}
