import Foundation

/// A transfer's recent rate, for the progress display's rates and ETA: an exponentially weighted
/// average of the rate between readings, each reading weighing `1 - e^(-Δt/τ)`. The ETA then
/// follows what the route delivers now (a route that slowed down, a layer resumed from a partial
/// file) instead of the average over the whole run, and one slow or fast reading moves it only a
/// little. Readings closer together than `minimumInterval` wait for a later one (a file's size
/// grows in whole chunks). Pure: the caller gives the time and the byte count.
struct RecentRate: Equatable {
    /// τ: seconds over which an older reading's weight falls to 1/e.
    var timeConstant = 5.0
    var minimumInterval = 0.5
    /// Bytes per second; nil until two readings `minimumInterval` apart.
    private(set) var bytesPerSecond: Double?
    private var lastTime: Double?
    private var lastBytes: Int64 = 0

    init(timeConstant: Double = 5.0, minimumInterval: Double = 0.5) {
        self.timeConstant = timeConstant
        self.minimumInterval = minimumInterval
    }

    /// A reading: `bytes` done at `now`. Bytes that went back (a download started again) count
    /// as no progress, from the new count on.
    mutating func sample(_ bytes: Int64, at now: Double) {
        guard let lastTime else {
            self.lastTime = now
            lastBytes = bytes
            return
        }
        let elapsed = now - lastTime
        guard elapsed >= minimumInterval else { return }
        let instant = Double(max(0, bytes - lastBytes)) / elapsed
        if let rate = bytesPerSecond {
            bytesPerSecond = rate + (1 - exp(-elapsed / timeConstant)) * (instant - rate)
        } else {
            bytesPerSecond = instant
        }
        self.lastTime = now
        lastBytes = bytes
    }

    /// The recent rate, or `fallback` (the average so far) before there is one.
    func rate(or fallback: Double) -> Double {
        bytesPerSecond ?? fallback
    }
}
