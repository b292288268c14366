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

    @Test func aSlowRouteAddsDownloadsAfterTheFirstLook() {
        var ramp = DownloadRamp(limit: 4)
        let look2 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 1 * Self.mebibyte, seconds: 0.05)
        #expect(!look2, "the first look only sets the mark")
        let look3 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 2 * Self.mebibyte, seconds: 0.05)
        #expect(look3, "20 MiB/s: slow")
        let look4 = ramp.shouldAddDownload(running: 2, waiting: 4, progress: 3 * Self.mebibyte, seconds: 0.05)
        #expect(look4)
        let look5 = ramp.shouldAddDownload(running: 3, waiting: 3, progress: 4 * Self.mebibyte, seconds: 0.05)
        #expect(look5)
        let look6 = ramp.shouldAddDownload(running: 4, waiting: 2, progress: 5 * Self.mebibyte, seconds: 0.05)
        #expect(!look6, "at the limit")
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
        let look10 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 1, seconds: 0.05, writerSetPace: true)
        #expect(!look10)
        let look11 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 2, seconds: 0.05, writerSetPace: false)
        #expect(look11)
    }

    @Test func theRateIsMeasuredPerLookNotSinceTheStart() {
        var ramp = DownloadRamp(limit: 4, fastBytesPerSecond: 100 * 1024 * 1024)
        _ = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 0, seconds: 0.05)
        let look12 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 100 * Self.mebibyte, seconds: 0.05)
        #expect(!look12, "a fast look")
        let look13 = ramp.shouldAddDownload(running: 1, waiting: 5, progress: 101 * Self.mebibyte, seconds: 0.05)
        #expect(look13, "then a slow one")
    }
}
