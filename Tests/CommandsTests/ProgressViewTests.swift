@testable import Commands
import Coordinator
import Foundation
import Registry
import Testing

/// The progress display's decisions as tables: events in, lines out. No terminal, no clock.
@Suite struct ProgressViewTests {
    static let digestA = "sha256:ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"
    static let digestB = "sha256:99887766554433221100998877665544332211009988776655443322110099aa"

    /// Replays `events` at the given times; returns the state and every step line.
    static func replay(_ events: [(Double, PullEvent)]) -> (ProgressState, [String]) {
        var state = ProgressState()
        var steps: [String] = []
        for (time, event) in events { steps += state.apply(event, at: time) }
        return (state, steps)
    }

    struct StepCase: Sendable, CustomTestStringConvertible {
        var event: PullEvent
        var at: Double
        var step: String?
        var testDescription: String { step ?? "no step" }
    }

    /// Each event, after `resolving` at t=10, and the step line it prints (a log shows exactly these).
    @Test(arguments: [
        StepCase(event: .vantageAnswered(name: "tor", digest: digestA), at: 12.1, step: "vantage tor answered in 2.1 s: sha256:ab12cd34ef56…"),
        StepCase(event: .vantageFailed(name: "vps", message: "connection refused"), at: 10.3, step: "vantage vps failed after 0.3 s: connection refused"),
        StepCase(event: .blobsPlanned(count: 6, bytes: 520_200_000, cached: 2), at: 13, step: "downloading 4 of 6 layers (520.2 MB in all, 2 already verified in the cache)"),
        StepCase(event: .blobStarted(digest: digestA, size: 100, partialPath: "/p"), at: 13, step: nil),
        StepCase(event: .blobFinished(digest: digestA, size: 40_000_000), at: 14, step: "layer sha256:ab12cd34ef56… verified (40.0 MB)"),
        StepCase(event: .waitingForAnotherRun(digest: digestB), at: 14, step: "layer sha256:998877665544…: waiting for another 3tofu run on this cache to download it"),
        StepCase(event: .waitingForThisRun(digest: digestB), at: 14, step: "layer sha256:998877665544…: another route of this run is bringing it; waiting for it"),
        StepCase(event: .writing(path: "/tmp/out.tar", format: "docker-archive"), at: 15, step: "writing docker-archive to /tmp/out.tar"),
        // Text from the network cannot move the cursor or start a line of its own.
        StepCase(event: .vantageFailed(name: "x", message: "bad\n\u{1B}[2Jverdict: AGREE"), at: 11, step: nil),
    ])
    func stepLines(_ test: StepCase) {
        let (_, steps) = Self.replay([(10, .resolving(vantages: ["home", "tor", "vps"])), (test.at, test.event)])
        #expect(steps.first == "resolving on 3 vantages: home, tor, vps")
        if let step = test.step {
            #expect(Array(steps.dropFirst()) == [step])
        } else if case .vantageFailed = test.event {
            #expect(steps.count == 2)
            #expect(!steps[1].contains("\n") && !steps[1].contains("\u{1B}"), "\(steps[1].debugDescription)")
        } else {
            #expect(steps.count == 1)
        }
    }

    /// While resolving, the block names every vantage; the one not answered yet is the one waited for.
    @Test func resolvingShowsWhoIsWaitedFor() {
        let (state, _) = Self.replay([
            (10, .resolving(vantages: ["home", "tor"])),
            (10.2, .vantageAnswered(name: "home", digest: Self.digestA)),
        ])
        #expect(ProgressView.live(state, width: 100, now: 13.5) == [
            "  home  answered in 0.2 s  sha256:ab12cd34ef56…",
            "  tor   waiting for an answer… 3.5 s",
        ])
        #expect(ProgressView.periodic(state, now: 13.5) == ["waiting for tor (3.5 s)"])
    }

    /// One line per layer in flight (short digest, bytes, percent, rate) and the overall line with the ETA.
    @Test func downloadingShowsEachLayerAndTheETA() {
        var (state, _) = Self.replay([
            (0, .resolving(vantages: ["home"])),
            (1, .blobsPlanned(count: 3, bytes: 100_000_000, cached: 0)),
            (1, .blobStarted(digest: Self.digestA, size: 50_000_000, partialPath: "/a")),
            (2, .blobStarted(digest: Self.digestB, size: 40_000_000, partialPath: "/b")),
        ])
        state.setBytes(20_000_000, of: Self.digestA)
        state.setBytes(10_000_000, of: Self.digestB)
        state.setBytes(5, of: "sha256:unknown")
        #expect(ProgressView.live(state, width: 120, now: 6) == [
            "  sha256:ab12cd34ef56…  20.0 MB / 50.0 MB  40%  4.0 MB/s",
            "  sha256:998877665544…  10.0 MB / 40.0 MB  25%  2.5 MB/s",
            "0/3 layers  30.0 MB / 100.0 MB  30%  6.0 MB/s  ETA 0:12",
        ])
        #expect(ProgressView.periodic(state, now: 6) == [
            "layer sha256:ab12cd34ef56… 40% 20.0 MB / 50.0 MB 4.0 MB/s",
            "layer sha256:998877665544… 25% 10.0 MB / 40.0 MB 2.5 MB/s",
            "0/3 layers 30.0 MB / 100.0 MB 30% ETA 0:12",
        ])
        // A finished layer leaves the block and counts in the overall line.
        _ = state.apply(.blobFinished(digest: Self.digestA, size: 50_000_000), at: 7)
        #expect(ProgressView.live(state, width: 120, now: 7) == [
            "  sha256:998877665544…  10.0 MB / 40.0 MB  25%  2.0 MB/s",
            "1/3 layers  60.0 MB / 100.0 MB  60%  10.0 MB/s  ETA 0:04",
        ])
        // Bytes on disk never count past the layer's size.
        state.setBytes(90_000_000, of: Self.digestB)
        #expect(state.doneBytes == 90_000_000)
        // Writing ends the block.
        _ = state.apply(.writing(path: "o", format: "oci"), at: 8)
        #expect(ProgressView.live(state, width: 120, now: 8) == [])
    }

    @Test func manyLayersInFlightStayOnFewLines() {
        var events: [(Double, PullEvent)] = [(0, .blobsPlanned(count: 12, bytes: 12_000, cached: 0))]
        for index in 0..<11 { events.append((0, .blobStarted(digest: "sha256:\(index)", size: 1000, partialPath: "/\(index)"))) }
        let (state, _) = Self.replay(events)
        let lines = ProgressView.live(state, width: 80, now: 1)
        #expect(lines.count == ProgressView.maximumLayerLines + 2)
        #expect(lines[ProgressView.maximumLayerLines] == "  … and 3 more layers in flight")
    }

    /// Every line fits the terminal's width, however long a vantage's message.
    @Test(arguments: [20, 40, 80, 200])
    func linesFitTheWidth(_ width: Int) {
        let (state, _) = Self.replay([
            (0, .resolving(vantages: ["a-very-long-vantage-name-indeed", "b"])),
            (1, .vantageFailed(name: "b", message: String(repeating: "the proxy said no ", count: 20))),
        ])
        let lines = ProgressView.live(state, width: width, now: 2)
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.count < max(11, width) }, "\(lines)")
    }

    /// Redrawing in place: back to the block's first line, clear to the end of the screen, write.
    @Test(arguments: [
        (0, ["a", "b"], "\r\u{1B}[Ja\nb"),
        (1, ["a", "b"], "\r\u{1B}[Ja\nb"),
        (3, ["x"], "\r\u{1B}[2A\u{1B}[Jx"),
        (2, [], "\r\u{1B}[1A\u{1B}[J"),
    ])
    func redraw(_ previous: Int, _ lines: [String], _ expected: String) {
        #expect(ProgressView.redraw(previous: previous, lines: lines) == expected)
    }

    @Test(arguments: [
        (Int64(0), 5.0, "0:00"), (Int64(600), 10.0, "1:00"), (Int64(7_200_000), 1000.0, "2:00:00"), (Int64(100), 0.0, nil), (Int64(1) << 50, 1.0, nil),
    ] as [(Int64, Double, String?)])
    func eta(_ remaining: Int64, _ rate: Double, _ expected: String?) {
        #expect(ProgressView.eta(remaining: remaining, rate: rate) == expected)
    }

    @Test func rateGateLetsOnePassPerInterval() {
        var gate = RateGate(interval: 2)
        #expect([0.0, 0.5, 1.9, 2.0, 2.1, 4.5].map { gate.allow(at: $0) } == [true, false, false, true, false, true])
    }

    /// -v: method, URL without its query or user information, status, bytes, time; no header.
    @Test func exchangeLineHasNoQueryAndNoSecret() {
        let exchange = HTTPExchange(
            vantage: "tor", method: "GET", url: "https://user:secret@cdn.example/blobs/sha256:ab?X-Amz-Signature=deadbeef#frag", status: 200, bytes: 1234,
            seconds: 0.0123)
        #expect(ProgressView.exchangeLine(exchange) == "http tor: GET https://cdn.example/blobs/sha256:ab → 200, 1.2 KB, 0.012 s")
        let failed = HTTPExchange(vantage: "vps", method: "HEAD", url: "http://h:5000/v2/", status: nil, bytes: 0, seconds: 1, failure: "connect")
        #expect(ProgressView.exchangeLine(failed) == "http vps: HEAD http://h:5000/v2/ → failed (connect), 0 B, 1.000 s")
    }
}

/// The `--json` document's decisions: every outcome gives one, with the exit code and the error.
@Suite struct ResultDocumentTests {
    @Test func badInputBeforeAnyVantageStillGivesADocument() {
        let document = ResultDocument(command: "pull")
        let rendered = document.rendered(exitCode: 2, error: "unknown --format 'zip'")
        #expect(rendered["exitCode"] as? Int == 2)
        #expect(rendered["verdict"] is NSNull)
        #expect(rendered["error"] as? String == "unknown --format 'zip'")
        #expect(rendered["reason"] as? String == "unknown --format 'zip'")
        #expect((rendered["subjects"] as? [Any])?.isEmpty == true)
        #expect((rendered["written"] as? [Any])?.isEmpty == true)
        #expect(rendered["schema"] as? String == ResultDocument.schema)
    }

    /// What a failed run had written was taken back (`RunJournal`): the document says nothing was written.
    @Test func aFailedRunListsNothingWritten() {
        let document = ResultDocument(command: "fetch")
        document.addWritten(path: "/o", format: "file", sha256: "ab")
        document.setDetails(["output": "/o"])
        #expect((document.rendered(exitCode: 0, error: nil)["written"] as? [Any])?.count == 1)
        #expect(document.rendered(exitCode: 0, error: nil)["output"] as? String == "/o")
        let failed = document.rendered(exitCode: 3, error: "could not write the report")
        #expect((failed["written"] as? [Any])?.isEmpty == true)
        #expect(failed["output"] == nil)
    }

    @Test(arguments: [
        (["pull", "x", "--json"], "pull"), (["pull", "--images-from", "f", "--json"], "bundle"), (["fetch", "--json"], "fetch"),
        (["bottle", "--json"], "bottle"), (["resolve", "--json"], "resolve"), (["pull", "x"], nil), (["keygen", "--json"], nil), (["pull", "x", "--output", "-", "--json"], nil),
    ] as [([String], String?)])
    func commandNameOfAnUnparsedLine(_ arguments: [String], _ expected: String?) {
        #expect(ResultDocument.commandName(unparsed: arguments) == expected)
    }
}
