import Testing
@testable import Transport

/// When a large body's transfer waits for a big step before waking: at the pace seen so far, never
/// past what the body may still send, never for a body libcurl frames otherwise, and not at all
/// once the route slowed down.
@Suite("receive low-water mark")
struct ReceiveLowWaterTests {
    static let kib: Int64 = 1024

    @Test("only large HTTP/1.x bodies framed by Content-Length alone")
    func applies() {
        #expect(ReceiveLowWater.applies(isHTTP1: true, contentLength: "3000000", transferEncoding: nil) == 3_000_000)
        #expect(ReceiveLowWater.applies(isHTTP1: true, contentLength: "524287", transferEncoding: nil) == nil, "under four steps")
        #expect(ReceiveLowWater.applies(isHTTP1: false, contentLength: "3000000", transferEncoding: nil) == nil, "HTTP/2 has flow control of its own")
        #expect(ReceiveLowWater.applies(isHTTP1: true, contentLength: "3000000", transferEncoding: "chunked") == nil, "libcurl frames by the chunks")
        #expect(ReceiveLowWater.applies(isHTTP1: true, contentLength: nil, transferEncoding: nil) == nil)
        #expect(ReceiveLowWater.applies(isHTTP1: true, contentLength: "lots", transferEncoding: nil) == nil)
    }

    @Test("the mark follows the pace, up to 128 KiB, and shrinks to nothing near the end")
    func followsThePace() {
        var plan = ReceiveLowWater(announcedLength: 100 * 1024 * Self.kib)
        #expect(plan.arrived(total: 16 * Self.kib, at: 10.0) == 1, "the first bytes say nothing about the pace")
        #expect(plan.arrived(total: 64 * Self.kib, at: 10.001) == 128 * 1024, "64 MiB/s: 50 ms is far more than the cap")
        var slow = ReceiveLowWater(announcedLength: 10 * 1024 * Self.kib)
        _ = slow.arrived(total: 1 * Self.kib, at: 0)
        #expect(slow.arrived(total: 200 * Self.kib, at: 1.0) == 10240, "200 KiB/s: 50 ms is 10 KiB")
        var crawl = ReceiveLowWater(announcedLength: 10 * 1024 * Self.kib)
        _ = crawl.arrived(total: 1 * Self.kib, at: 0)
        #expect(crawl.arrived(total: 20 * Self.kib, at: 1.0) == 1, "20 KiB/s: a 1 KiB step is not worth it")

        var ending = ReceiveLowWater(announcedLength: 1024 * Self.kib)
        _ = ending.arrived(total: 1 * Self.kib, at: 0)
        #expect(ending.arrived(total: 900 * Self.kib, at: 0.01) == 60 * 1024, "124 KiB left, less the 64 KiB tail")
        #expect(ending.arrived(total: 957 * Self.kib, at: 0.011) == 1, "3 KiB above the tail: wake for every byte")
    }

    @Test("a body that stopped coming is read byte by byte for the rest of it")
    func stallTurnsTheMarkOff() {
        var plan = ReceiveLowWater(announcedLength: 100 * 1024 * Self.kib)
        _ = plan.arrived(total: 16 * Self.kib, at: 0)
        #expect(plan.arrived(total: 4096 * Self.kib, at: 0.1) == 128 * 1024)
        #expect(plan.tick(at: 0.2) == nil, "100 ms without bytes is within patience")
        #expect(plan.tick(at: 0.36) == 1, "260 ms: the route slowed down")
        #expect(plan.tick(at: 2) == nil, "already off")
        #expect(plan.arrived(total: 4200 * Self.kib, at: 2.1) == 1, "and it stays off, whatever the pace")
        var idle = ReceiveLowWater(announcedLength: 100 * 1024 * Self.kib)
        #expect(idle.tick(at: 5) == nil, "no body yet: nothing to decide")
    }
}
