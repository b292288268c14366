import Artifacts
import Foundation
import Transport

/// One layer's download handed to the archive writer while it arrives: a `BodyTap` on the
/// download's file for the fetcher, a `LiveLayer` for the writer. The download still writes the
/// store's copy; the writer takes the same bytes from memory instead of reading them back.
///
/// Bytes are gathered into pieces of `pieceSize` and queued, at most `capacity` bytes; a full queue
/// waits for the writer, so the download goes at the writer's pace (and libcurl's timeouts and
/// cancellation wait with it: the writer is taking bytes, or it is gone and the feed abandoned).
/// The one exception: while other downloads run beside this one (a slow route, see
/// `DownloadRamp`) and the writer has not come for this layer yet, a full queue waits only
/// `patience` seconds and then gives the feed up: the download goes on into the store alone, the
/// writer reads the layer from there, and a download far ahead of the writer is not held back.
/// Waiting cannot deadlock: downloads start in the writer's order, so the writer never waits for
/// a download that is waiting for it, and a writer that stops taking live (it leaves, or writes
/// the archive again from the store) abandons every feed. Bytes beyond `expectedSize` abandon the
/// feed too (a body longer than the layer never verifies).
///
/// The feed hands over only a single body written from the file's first byte: a second body (a
/// retry, a resume with `Range`) abandons it, as does the fetcher when the blob does not verify.
///
/// Every decision is `StateMachine`'s. This class only locks around it, waits where it says wait
/// and wakes where it says wake. It never holds its lock while calling out (`othersRunning` is
/// asked with the lock released), and `LayerGate` never holds its own while calling a feed, so no
/// thread ever holds both locks and there is no lock order to keep.
final class LayerFeed: LiveLayer, BodyTap, @unchecked Sendable {
    // Safety: `machine` is read and written only with `condition` locked; `pending` only by the
    // transfer's thread (BodyTap calls are serial).
    private let condition = NSCondition()
    private var machine: StateMachine
    private var pending = Data()

    let pieceSize: Int
    let patience: Double
    /// Whether other downloads run beside this one now. Called without the feed's lock held.
    private let othersRunning: @Sendable () -> Bool

    init(
        expectedSize: Int64? = nil, capacity: Int = 8 << 20, pieceSize: Int = 1 << 20, patience: Double = 0.05,
        othersRunning: @escaping @Sendable () -> Bool = { false }
    ) {
        self.machine = StateMachine(expectedSize: expectedSize, capacity: max(capacity, pieceSize))
        self.pieceSize = pieceSize
        self.patience = patience
        self.othersRunning = othersRunning
    }

    // MARK: the download's side (BodyTap)

    func begin(appending: Bool) {
        perform(locked { $0.bodyBegins(appending: appending) })
    }

    func receive(_ bytes: UnsafeRawBufferPointer) {
        switch locked({ $0.bytesArrive(bytes.count) }) {
        case .ignore:
            return
        case .gaveUp:
            pending = Data()
            condition.broadcast()
            return
        case .gather:
            break
        }
        var rest = bytes
        while !rest.isEmpty {
            if pending.isEmpty { pending.reserveCapacity(pieceSize) }
            let take = min(rest.count, pieceSize - pending.count)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest.prefix(take)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(take))
            if pending.count == pieceSize {
                enqueue(pending)
                pending = Data()
            }
        }
    }

    func end() {
        if !pending.isEmpty { enqueue(pending) }
        pending = Data()
    }

    // MARK: the fetcher's side

    /// The blob is verified (and in the store): the writer may finish the layer.
    func verified() {
        perform(locked { $0.verified() })
    }

    /// The download will not hand over the layer whole and verified, or the writer is gone.
    /// Frees what is queued and releases a download waiting for room.
    func abandon() {
        perform(locked { $0.abandon() })
    }

    /// Whether the download waited for the writer since the last call (the writer, not the route,
    /// set the pace).
    func takeHeldBack() -> Bool {
        locked { $0.takeHeldBack() }
    }

    // MARK: the writer's side (LiveLayer)

    func next() -> LiveChunk {
        condition.lock()
        var action = machine.writerTakes()
        while action == .waitForBytes {
            condition.wait()
            action = machine.writerTakes()
        }
        condition.unlock()
        switch action {
        case .bytes(let piece):
            // Room was freed: a download waiting for it goes on.
            condition.broadcast()
            return .bytes(piece)
        case .verified, .waitForBytes:
            return .verified
        case .abandoned:
            return .abandoned
        }
    }

    // MARK: -

    /// Offers a whole piece, waiting while the machine says so. The only waits of the download.
    private func enqueue(_ piece: Data) {
        condition.lock()
        var action = machine.offer(piece)
        while true {
            switch action {
            case .queued, .gaveUp:
                condition.unlock()
                condition.broadcast()
                return
            case .dropped:
                condition.unlock()
                return
            case .waitForWriter:
                condition.wait()
                action = machine.offer(piece)
            case .waitForWriterOrPatience:
                if condition.wait(until: Date(timeIntervalSinceNow: patience)) {
                    action = machine.offer(piece)
                } else {
                    // Asked with the lock released: the answer comes from the gate, under its lock.
                    condition.unlock()
                    let others = othersRunning()
                    condition.lock()
                    action = machine.patienceRanOut(piece, othersRunning: others)
                }
            }
        }
    }

    private func locked<T>(_ body: (inout StateMachine) -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body(&machine)
    }

    /// Carries out a wake, with the lock released.
    private func perform(_ wake: StateMachine.Wake) {
        if wake == .everyone { condition.broadcast() }
    }
}
