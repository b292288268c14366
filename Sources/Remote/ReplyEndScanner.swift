import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds where one exchange's reply ends in the output of a long-lived remote process: the line
/// `3tofu-end NONCE` (`RemoteCurlScript.endLine`), with a nonce this side chose for the exchange
/// and sent only over SSH, so a body cannot contain it except by a 1-in-2^128 accident. Bytes
/// before the line are passed on as they arrive, except the last few that could be the start of
/// it; anything after it is a protocol error (nothing is asked of the process until the reply
/// ended). Pure, no I/O.
struct ReplyEndScanner {
    struct Overrun: Error, Equatable {}

    private let marker: [UInt8]
    /// Bytes not passed on yet: fewer than `marker.count`, unless the marker was found.
    private var held: [UInt8] = []
    private(set) var found = false

    init(endLine: String) {
        marker = Array(endLine.utf8)
        held.reserveCapacity(64 * 1024 + marker.count)
    }

    /// Feeds output; `deliver` receives the bytes that belong to the reply, in order.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !found else {
            if bytes.count > 0 { throw Overrun() }
            return
        }
        held.append(contentsOf: bytes)
        let marker = self.marker
        let (passOn, end) = held.withUnsafeBytes { all -> (Int, Int?) in
            if let at = Self.find(marker, in: all) { return (at, at + marker.count) }
            return (max(0, all.count - (marker.count - 1)), nil)
        }
        if passOn > 0 { try held.withUnsafeBytes { try deliver(UnsafeRawBufferPointer(rebasing: $0[..<passOn])) } }
        if let end {
            found = true
            let extra = held.count - end
            held.removeAll(keepingCapacity: false)
            if extra > 0 { throw Overrun() }
        } else {
            held.removeFirst(passOn)
        }
    }

    /// The first offset of `needle` in `haystack`.
    static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
        guard let base = haystack.baseAddress, let first = needle.first, needle.count <= haystack.count else { return nil }
        let last = haystack.count - needle.count
        var start = 0
        while start <= last {
            guard let hit = memchr(base + start, Int32(first), last - start + 1) else { return nil }
            let offset = base.distance(to: UnsafeRawPointer(hit))
            if needle.withUnsafeBytes({ memcmp(base + offset, $0.baseAddress!, needle.count) }) == 0 { return offset }
            start = offset + 1
        }
        return nil
    }
}
