@testable import Commands
import Coordinator
import Foundation
import Testing
import Transport

/// The recent rate behind the progress display's rates and ETA, and what a fetch's and a set's
/// progress show, as tables: readings in, rates and lines out. No clock, no terminal.
@Suite struct ProgressRateTests {
    static let megabyte = 1_000_000.0

    /// Readings of a transfer at a constant `rate` (bytes/s) from `start` to `end`, every `step` seconds,
    /// starting at `bytes`.
    static func readings(rate: Double, from start: Double, to end: Double, step: Double = 0.2, bytes: Int64 = 0) -> [(Double, Int64)] {
        stride(from: start, through: end + 1e-9, by: step).map { time in (time, bytes + Int64(rate * (time - start))) }
    }

    struct RateCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var readings: [(Double, Int64)]
        /// The rate after the last reading, in MB/s; nil: none yet.
        var expected: ClosedRange<Double>?
    }

    @Test(arguments: [
        RateCase(testDescription: "one reading gives no rate", readings: [(0, 0)], expected: nil),
        RateCase(testDescription: "readings closer than the minimum interval wait", readings: [(0, 0), (0.2, 2_000_000), (0.4, 4_000_000)], expected: nil),
        RateCase(testDescription: "a constant rate is the rate", readings: readings(rate: 10 * megabyte, from: 0, to: 20), expected: 9.99...10.01),
        // 20 s at 10 MB/s, then 20 s at 1 MB/s: the whole-run average (5.5) is far behind the route's pace now.
        RateCase(
            testDescription: "a route that slows down is followed",
            readings: readings(rate: 10 * megabyte, from: 0, to: 20) + readings(rate: 1 * megabyte, from: 20.2, to: 40, bytes: 200_200_000),
            expected: 1.0...1.3),
        // One reading with nothing new (a file that grows in whole chunks) moves the rate a little, not to zero.
        RateCase(
            testDescription: "one stalled reading barely moves it",
            readings: readings(rate: 10 * megabyte, from: 0, to: 19.8, step: 0.6) + [(20.4, 198_000_000)], expected: 8.5...10.01),
        // A download started again (its partial file shorter than before) is no negative rate.
        RateCase(
            testDescription: "bytes that go back count as no progress",
            readings: [(0, 0), (1, 10_000_000), (2, 0), (3, 10_000_000)], expected: 8.45...8.6),
        // Readings at uneven intervals give the same rate as even ones.
        RateCase(
            testDescription: "uneven intervals",
            readings: [(0, 0), (0.5, 2_500_000), (2.5, 12_500_000), (3.1, 15_500_000), (6, 30_000_000)], expected: 4.99...5.01),
    ])
    func recentRate(_ test: RateCase) {
        var rate = RecentRate()
        for (time, bytes) in test.readings { rate.sample(bytes, at: time) }
        if let expected = test.expected {
            let value = (rate.bytesPerSecond ?? -1) / Self.megabyte
            #expect(expected.contains(value), "\(value) MB/s")
        } else {
            #expect(rate.bytesPerSecond == nil)
        }
    }

    /// The ETA follows the recent rate: after 20 s at 5 MB/s and 20 s at 1 MB/s, 80 MB left take
    /// about 80 s (the run's average, 3 MB/s, would say 27 s); and it does not jump from one
    /// reading to the next.
    @Test func theETAFollowsTheRecentRateAndStaysSteady() throws {
        var state = ProgressState()
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        _ = state.apply(.blobsPlanned(count: 1, bytes: 200_000_000, cached: 0), at: 0)
        _ = state.apply(.blobStarted(digest: digest, size: 200_000_000, partialPath: "/p"), at: 0)
        var etas: [Int] = []
        for (time, bytes) in Self.readings(rate: 5 * Self.megabyte, from: 0, to: 20) + Self.readings(rate: Self.megabyte, from: 20.2, to: 40, bytes: 101_000_000) {
            state.setBytes(bytes, of: digest)
            state.sample(at: time)
            let overall = try #require(ProgressView.live(state, width: 120, now: time).last)
            if time >= 30, let eta = Self.etaSeconds(overall) { etas.append(eta) }
        }
        let last = try #require(etas.last)
        #expect((70...90).contains(last), "\(etas)")
        // From one reading to the next (0.2 s apart), the ETA moves by seconds, not tens of them.
        #expect(zip(etas, etas.dropFirst()).allSatisfy { abs($0 - $1) <= 3 }, "\(etas)")
    }

    /// A layer the early downloads had half brought when the plan is announced (at the verdict):
    /// its bytes did not come in no time. Right after the plan the overall rate is what came
    /// since (nothing: no rate, no ETA), not 4 MB over a millisecond; then the pace since.
    @Test func bytesBroughtBeforeThePlanAreNotARate() throws {
        var state = ProgressState()
        let digest = "sha256:" + String(repeating: "cd", count: 32)
        _ = state.apply(.blobStarted(digest: digest, size: 6_000_000, partialPath: "/p"), at: 1)
        state.setBytes(4_000_000, of: digest)
        _ = state.apply(.blobsPlanned(count: 1, bytes: 6_000_000, cached: 0), at: 5)
        let atPlan = try #require(ProgressView.live(state, width: 120, now: 5.001).last)
        #expect(atPlan == "0/1 layers  4.0 MB / 6.0 MB  66%  0 B/s", "\(atPlan)")
        state.setBytes(5_000_000, of: digest)
        let later = try #require(ProgressView.live(state, width: 120, now: 6).last)
        #expect(later == "0/1 layers  5.0 MB / 6.0 MB  83%  1.0 MB/s  ETA 0:01", "\(later)")
    }

    static func etaSeconds(_ line: String) -> Int? {
        guard let range = line.range(of: "ETA ") else { return nil }
        let parts = line[range.upperBound...].split(separator: ":").compactMap { Int($0) }
        return parts.reduce(0) { $0 * 60 + $1 }
    }

    /// fetch: each vantage downloads the file itself; the block shows its bytes, share, rate and
    /// ETA, and a vantage whose transport sees no bytes (an SSH one) is waited for.
    @Test func aFetchShowsEachVantagesDownload() {
        var state = ProgressState()
        _ = state.apply(.resolving(vantages: ["home", "tor", "vps"]), at: 10)
        for name in ["home", "tor", "vps"] {
            #expect(state.apply(.vantageDownloading(name: name, progress: TransferProgress()), at: 10).isEmpty)
        }
        state.setReceived(20_000_000, expected: 50_000_000, of: "home")
        state.setReceived(3_000_000, expected: nil, of: "tor")
        #expect(ProgressView.live(state, width: 120, now: 14) == [
            "  home  downloading 20.0 MB / 50.0 MB  40%  5.0 MB/s  ETA 0:06",
            "  tor   downloading 3.0 MB  750.0 KB/s",
            "  vps   waiting for an answer… 4.0 s",
        ])
        #expect(ProgressView.periodic(state, now: 14) == [
            "vantage home 20.0 MB / 50.0 MB 40% 5.0 MB/s ETA 0:06",
            "vantage tor 3.0 MB 750.0 KB/s",
            "waiting for vps (4.0 s)",
        ])
        // Once answered, the line says so, whatever bytes are read afterwards.
        _ = state.apply(.vantageAnswered(name: "home", digest: "sha256:" + String(repeating: "1", count: 64)), at: 15)
        state.setReceived(50_000_000, expected: 50_000_000, of: "home")
        #expect(ProgressView.live(state, width: 120, now: 15).first == "  home  answered in 5.0 s  sha256:111111111111…")
    }

    /// fetch's second download (the keeping vantage kept no copy): an agreeing vantage that
    /// answered downloads the file again, shown with its bytes, share, rate and ETA as the first
    /// download was, on a terminal and in a log.
    @Test func aFetchsSecondDownloadShowsItsBytes() {
        var state = ProgressState()
        _ = state.apply(.resolving(vantages: ["home", "tor"]), at: 10)
        _ = state.apply(.vantageFailed(name: "home", message: "connection refused"), at: 10.5)
        _ = state.apply(.vantageDownloading(name: "tor", progress: TransferProgress()), at: 10)
        _ = state.apply(.vantageAnswered(name: "tor", digest: "sha256:" + String(repeating: "1", count: 64)), at: 12)
        let steps = state.apply(.vantageDownloading(name: "tor", progress: TransferProgress()), at: 20)
        #expect(steps == ["vantage tor downloading the agreed file again (no copy was kept from the first downloads)"])
        state.setReceived(20_000_000, expected: 50_000_000, of: "tor")
        #expect(ProgressView.live(state, width: 120, now: 24).last == "  tor   downloading 20.0 MB / 50.0 MB  40%  5.0 MB/s  ETA 0:06")
        #expect(ProgressView.periodic(state, now: 24) == ["vantage tor 20.0 MB / 50.0 MB 40% 5.0 MB/s ETA 0:06"])
    }

    /// A set (a bundle's images): each image's vantages, named after it, join the block as it
    /// starts; a large set keeps to a few lines, those still waited for first.
    @Test func aSetShowsEveryImagesVantagesInFewLines() {
        var state = ProgressState()
        let steps = state.apply(.resolving(vantages: ["a:1/home", "a:1/tor"]), at: 0)
            + state.apply(.vantageAnswered(name: "a:1/home", digest: "sha256:aa"), at: 0.5)
            + state.apply(.resolving(vantages: ["b:2/home", "b:2/tor"]), at: 1)
        #expect(steps == ["resolving on 2 vantages: a:1/home, a:1/tor", "vantage a:1/home answered in 0.5 s: sha256:aa", "resolving on 2 vantages: b:2/home, b:2/tor"])
        #expect(ProgressView.live(state, width: 100, now: 3) == [
            "  a:1/home  answered in 0.5 s  sha256:aa",
            "  a:1/tor   waiting for an answer… 3.0 s",
            "  b:2/home  waiting for an answer… 2.0 s",
            "  b:2/tor   waiting for an answer… 2.0 s",
        ])
        for index in 0..<20 {
            _ = state.apply(.resolving(vantages: ["i\(index)/home"]), at: 2)
            _ = state.apply(.vantageAnswered(name: "i\(index)/home", digest: "sha256:bb"), at: 2.5)
        }
        let lines = ProgressView.live(state, width: 100, now: 3)
        #expect(lines.count == ProgressView.maximumVantageLines)
        #expect(lines.prefix(3).allSatisfy { $0.contains("waiting for an answer…") }, "\(lines)")
        #expect(lines.last == "  … and 13 more answered")
    }
}
