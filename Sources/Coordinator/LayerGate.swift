import Artifacts
import Foundation
import OCI

/// Lets an output be assembled while its layers are still downloading: the writer, on a blocking
/// thread, waits here for each layer until the store holds it whole; the fetch says when a layer
/// landed, and `close()` ends every wait once nothing more will arrive (the writer then reports
/// what is missing, or the output is discarded).
final class LayerGate: @unchecked Sendable {
    // Safety: `closed` is read and written only with `condition` locked.
    private let store: ContentStore
    private let condition = NSCondition()
    private var closed = false

    init(store: ContentStore) {
        self.store = store
    }

    /// Blocks until the layer is in the store, or the gate is closed.
    func wait(for digest: Digest, size: Int64) {
        condition.lock()
        defer { condition.unlock() }
        while !closed, !store.contains(digest, size: size) {
            condition.wait()
        }
    }

    /// A layer was committed to the store: wake the writer to look again.
    func layerStored() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// No more layers will arrive (the fetch finished or failed).
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Passes every event on, and wakes the writer when a blob has been committed.
    func forwarding(_ events: PullEventSink?) -> PullEventSink {
        { [self] event in
            if case .blobFinished = event { layerStored() }
            events?(event)
        }
    }

    var availability: LayerAvailability {
        { [self] digest, size in wait(for: digest, size: size) }
    }
}
