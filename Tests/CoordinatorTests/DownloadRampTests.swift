@testable import Coordinator
import Testing

/// When another download may join: never past the limit or with nothing waiting, never on the
/// first look (it holds the start, not the pace), and otherwise only on a slow route whose pace
/// the archive writer did not set.
@Suite struct DownloadRampTests {
    static let mebibyte: Int64 = 1 << 20

    @Test func aFastRouteKeepsOneDownloadAtATime() {
        var ramp = DownloadRamp(limit: 4, fastBytesPerSecond: 192 * 1024 * 1024)
        var progress: Int64 = 0
        for _ in 0..<10 {
            progress += 25 * Self.mebibyte  // 500 MiB/s in 50 ms looks
            let look1 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: progress, seconds: 0.05)
            #expect(!look1)
        }
    }

    @Test func aSlowRouteAddsDownloadsAfterTwoSlowLooksInARow() {
        var ramp = DownloadRamp(limit: 4)
        let first = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 1 * Self.mebibyte, seconds: 0.05)
        #expect(!first, "the first look only sets the mark")
        let second = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 2 * Self.mebibyte, seconds: 0.05)
        #expect(!second, "one slow look (20 MiB/s) may be the pause between two downloads")
        let third = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 3 * Self.mebibyte, seconds: 0.05)
        #expect(third, "the second slow look in a row adds one")
        let fourth = ramp.shouldAddDownload(running: 2, waiting: 4, progress: 4 * Self.mebibyte, seconds: 0.05)
        #expect(fourth, "and so does each slow look after it")
        let fifth = ramp.shouldAddDownload(running: 3, waiting: 3, progress: 5 * Self.mebibyte, seconds: 0.05)
        #expect(fifth)
        let sixth = ramp.shouldAddDownload(running: 4, waiting: 2, progress: 6 * Self.mebibyte, seconds: 0.05)
        #expect(!sixth, "at the limit")
    }

    @Test func nothingWaitingOrNothingRunning() {
        var ramp = DownloadRamp(limit: 4)
        _ = ramp.shouldAddDownload(running: 1, waiting: 1, progress: 0, seconds: 0.05)
        let look7 = ramp.shouldAddDownload(running: 1, waiting: 0, progress: 1, seconds: 0.05)
        #expect(!look7, "nothing left to start")
        let look8 = ramp.shouldAddDownload(running: 0, waiting: 3, progress: 1, seconds: 0.05)
        #expect(look8, "nothing running: start one whatever the pace")
        var single = DownloadRamp(limit: 1)
        _ = single.shouldAddDownload(running: 1, waiting: 3, progress: 0, seconds: 0.05)
        let look9 = single.shouldAddDownload(running: 1, waiting: 3, progress: 1, seconds: 0.05)
        #expect(!look9, "limit 1: one at a time")
    }

    @Test func aPaceSetByTheWriterAddsNothing() {
        var ramp = DownloadRamp(limit: 4)
        _ = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 0, seconds: 0.05)
        _ = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 1, seconds: 0.05)
        let held = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 2, seconds: 0.05, writerSetPace: true)
        #expect(!held, "slow only because the writer held the download back")
        let after = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 3, seconds: 0.05)
        #expect(!after, "the held-back look broke the run of slow looks")
        let again = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 4, seconds: 0.05)
        #expect(again)
    }

    @Test func theRateIsMeasuredPerLookNotSinceTheStart() {
        var ramp = DownloadRamp(limit: 4, fastBytesPerSecond: 100 * 1024 * 1024)
        _ = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 0, seconds: 0.05)
        let fast = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 100 * Self.mebibyte, seconds: 0.05)
        #expect(!fast, "a fast look")
        let slowOnce = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 101 * Self.mebibyte, seconds: 0.05)
        #expect(!slowOnce)
        let slowTwice = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 102 * Self.mebibyte, seconds: 0.05)
        #expect(slowTwice, "two slow looks after a fast one: the average since the start would still look fast")
    }
}
