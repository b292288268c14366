import Artifacts

/// Several images verified as a set and written as one bundle (`pull --images-from`).
public struct BundleRequest: Sendable {
    /// One request per image, in the order listed; each with `output` nil. They share vantages,
    /// policy, credentials and content store (the first one's are used for downloading).
    public var images: [PullRequest]
    /// The one output every image goes into.
    public var output: PullRequest.Output
    /// Images verified (and later downloaded) at once.
    public var concurrency: Int
    /// Progress of the whole set: each image's vantages named after it, one download plan for all.
    public var events: PullEventSink?

    public init(images: [PullRequest], output: PullRequest.Output, concurrency: Int = 3) {
        self.images = images
        self.output = output
        self.concurrency = concurrency
    }
}
