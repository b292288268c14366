import Foundation
import OCI

/// A layer's bytes handed to an archive writer while the layer downloads, so the writer does not
/// have to wait for the layer to reach the store and read it back from disk (for a large image
/// that read-back is a second pass over the disk). The downloader keeps writing the store's copy;
/// the writer takes the same bytes from memory, in order.
package protocol LiveLayer: AnyObject, Sendable {
    /// Blocks until the next bytes of the layer, the end, or abandonment.
    func next() -> LiveChunk
}

/// What a `LiveLayer` hands over next.
package enum LiveChunk: Sendable {
    /// The next bytes of the layer, in order.
    case bytes(Data)
    /// Every byte has been handed over, and the download matched the layer's digest and size.
    case verified
    /// This download will not hand over the layer whole and verified (it restarted or resumed,
    /// sent wrong bytes, fell behind, or the fetch gave up). Bytes taken from it must be thrown
    /// away; the layer reaches the store by another way if it reaches it at all.
    case abandoned
}

/// Where an archive writer gets layers as they download.
package protocol LiveLayerSource: Sendable {
    /// For a layer the writer has reached: the layer's download if it will stream to the writer
    /// from its first byte, else nil (the layer is in the store already, or will be read from
    /// there). May block until that download starts.
    func liveLayer(_ digest: Digest, size: Int64) -> (any LiveLayer)?

    /// The writer takes nothing live any more (it writes the archive again from the store): every
    /// download handed to it, the one it was reading included, must stop waiting for it.
    func stopTakingLive()
}

/// Thrown inside the archive writer when a layer it was taking live is abandoned part-way: the
/// archive so far holds bytes that may be wrong, so it is written again from the store.
struct LiveLayerAbandoned: Error {
    let digest: OCI.Digest
}
