/// When one more blob download may join those running. Downloads start one at a time, in the
/// order the writer takes the layers; another joins (up to `limit`) only after two looks in a
/// row in which those running together brought less than `fastBytesPerSecond` and no download
/// waited for the archive writer, there or not yet there (one slow look is often just the pause
/// between two downloads). Downloads that joined are not stopped again.
///
/// Why: on a fast route one download at a time already keeps the disk busy, and the archive writer
/// can take every layer straight from its download (a download running ahead of the writer has to
/// be read back from disk later, a second pass over the disk). On a slow route (a long way, a
/// busy proxy, many small layers) downloads side by side fill the link, and reading a few layers
/// back costs nothing next to the network. Pure: the fetcher measures, this decides.
struct DownloadRamp: Sendable, Equatable {
    let limit: Int
    let fastBytesPerSecond: Double
    /// Nil until the first look: the first window holds the start (request, first byte), not the pace.
    private var progressAtLastLook: Int64?
    private var lastLookWasSlow = false

    /// How often the fetcher looks (seconds).
    static let interval = 0.05

    init(limit: Int, fastBytesPerSecond: Double = 192 * 1024 * 1024) {
        self.limit = max(1, limit)
        self.fastBytesPerSecond = fastBytesPerSecond
    }

    /// One look, `seconds` after the previous one (or the start): `progress` is every byte the
    /// fetch has received so far, `running` and `waiting` count downloads, `writerSetPace` says a
    /// download waited for the archive writer since the last look.
    mutating func shouldAddDownload(running: Int, waiting: Int, progress: Int64, seconds: Double, writerSetPace: Bool = false) -> Bool {
        let previous = progressAtLastLook
        progressAtLastLook = progress
        guard waiting > 0, running < limit else { return false }
        guard running > 0 else { return true }
        guard let previous, seconds > 0 else { return false }
        let slow = !writerSetPace && Double(progress - previous) / seconds < fastBytesPerSecond
        defer { lastLookWasSlow = slow }
        return slow && lastLookWasSlow
    }
}
