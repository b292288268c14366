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
final class LayerFeed: LiveLayer, BodyTap, @unchecked Sendable {
    // Safety: every stored property below `condition` is read and written only with it locked,
    // except `pending`, which only the transfer's thread touches (BodyTap calls are serial).
    private enum State {
        case open, verified, abandoned
    }

    private let condition = NSCondition()
    private var queue: [Data] = []
    private var head = 0
    private var queuedBytes = 0
    private var state = State.open
    private var readerCame = false
    private var bodies = 0
    private var pending = Data()
    /// Bytes received; only the transfer's thread touches it.
    private var received: Int64 = 0

    let expectedSize: Int64?
    let capacity: Int
    let pieceSize: Int
    let patience: Double
    /// Whether other downloads run beside this one now.
    private let othersRunning: @Sendable () -> Bool
    /// Told each time the download waits for the writer (the writer, not the route, sets the pace).
    private let heldBack: @Sendable () -> Void

    init(
        expectedSize: Int64? = nil, capacity: Int = 8 << 20, pieceSize: Int = 1 << 20, patience: Double = 0.05,
        othersRunning: @escaping @Sendable () -> Bool = { false }, heldBack: @escaping @Sendable () -> Void = {}
    ) {
        self.expectedSize = expectedSize
        self.capacity = max(capacity, pieceSize)
        self.pieceSize = pieceSize
        self.patience = patience
        self.othersRunning = othersRunning
        self.heldBack = heldBack
    }

    // MARK: the download's side (BodyTap)

    func begin(appending: Bool) {
        condition.lock()
        bodies += 1
        let usable = bodies == 1 && !appending
        condition.unlock()
        if !usable { abandon() }
    }

    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard isOpen else { return }
        received += Int64(bytes.count)
        if let expectedSize, received > expectedSize {
            pending = Data()
            abandon()
            return
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
        if !pending.isEmpty, isOpen { enqueue(pending) }
        pending = Data()
    }

    // MARK: the fetcher's side

    /// The blob is verified (and in the store): the writer may finish the layer.
    func verified() {
        condition.lock()
        if state == .open { state = .verified }
        condition.broadcast()
        condition.unlock()
    }

    /// The download will not hand over the layer whole and verified, or the writer is gone.
    /// Frees what is queued and releases a download waiting for room.
    func abandon() {
        condition.lock()
        abandonLocked()
        condition.unlock()
    }

    // MARK: the writer's side (LiveLayer)

    func next() -> LiveChunk {
        condition.lock()
        defer { condition.unlock() }
        if !readerCame {
            readerCame = true
            condition.broadcast()
        }
        while head == queue.count, state == .open {
            condition.wait()
        }
        if state == .abandoned { return .abandoned }
        if head < queue.count {
            let piece = queue[head]
            queue[head] = Data()
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            }
            queuedBytes -= piece.count
            condition.broadcast()
            return .bytes(piece)
        }
        return .verified
    }

    // MARK: -

    /// `abandon()` with `condition` already locked: frees the queue and wakes every waiter.
    private func abandonLocked() {
        if state == .open {
            state = .abandoned
            queue = []
            head = 0
            queuedBytes = 0
        }
        condition.broadcast()
    }

    private var isOpen: Bool {
        condition.lock()
        defer { condition.unlock() }
        return state == .open
    }

    private func enqueue(_ piece: Data) {
        condition.lock()
        defer { condition.unlock() }
        while state == .open, queuedBytes > 0, queuedBytes + piece.count > capacity {
            // Waiting for the writer: the writer, not the route, sets the pace now.
            heldBack()
            if readerCame {
                condition.wait()
            } else if !condition.wait(until: Date(timeIntervalSinceNow: patience)), !readerCame, othersRunning() {
                // The writer is busy with earlier layers while other downloads fill the link:
                // let this one go on alone.
                abandonLocked()
            }
        }
        guard state == .open else { return }
        queue.append(piece)
        queuedBytes += piece.count
        condition.broadcast()
    }
}
