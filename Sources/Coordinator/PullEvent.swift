import Transport

/// Progress of a pull, for whoever wants to show it (the CLI on a terminal).
public enum PullEvent: Sendable {
    case resolving(vantages: [String])
    case vantageAnswered(name: String, digest: String)
    case vantageFailed(name: String, message: String)
    /// The vantage downloads the subject itself (a fetch); its transport counts the bytes into `progress`.
    case vantageDownloading(name: String, progress: TransferProgress)
    case blobsPlanned(count: Int, bytes: Int64, cached: Int)
    /// A download into `partialPath` began; its size on disk is the progress.
    case blobStarted(digest: String, size: Int64, partialPath: String)
    case blobFinished(digest: String, size: Int64)
    /// Another run sharing the cache is downloading this blob; this one waits for it.
    case waitingForAnotherRun(digest: String)
    /// Another download of this run (another route, or an early download) is bringing this blob;
    /// this one waits for it.
    case waitingForThisRun(digest: String)
    case writing(path: String, format: String)
}

public typealias PullEventSink = @Sendable (PullEvent) -> Void
