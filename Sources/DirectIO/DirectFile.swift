import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor and whether O_DIRECT is on for it, shared by a reader or writer and its
/// read-ahead or write-behind thread. Each transfer retries EINTR and, when the file system refuses
/// it in direct mode (EINVAL: it took the flag but not this request, or a short transfer left the
/// offset unaligned), turns O_DIRECT off for good and retries buffered. The descriptor is not
/// closed here: it stays its owner's.
final class DirectFile: Sendable {
    let fd: Int32
    private let direct: Mutex<Bool>

    /// Turns O_DIRECT on for `fd` when `direct` is true and the platform and file system allow it.
    init(fd: Int32, direct: Bool) {
        self.fd = fd
        self.direct = Mutex(direct && DirectMode.enable(fd))
    }

    var isDirect: Bool { direct.withLock { $0 } }

    /// Clears O_DIRECT (for an unaligned tail, or after a refused transfer); it stays off.
    func leaveDirectMode() {
        direct.withLock { isDirect in
            if isDirect {
                DirectMode.disable(fd)
                isDirect = false
            }
        }
    }

    /// Reads up to `count` bytes; 0 at the end of the file.
    func read(into base: UnsafeMutableRawPointer, count: Int) throws(DirectIOError) -> Int {
        try retrying { SystemCalls.read(fd, base, count) }
    }

    /// Writes all `count` bytes, retrying short writes.
    func writeAll(_ base: UnsafeRawPointer, count: Int) throws(DirectIOError) {
        var cursor = base
        var remaining = count
        while remaining > 0 {
            let written = try retrying { SystemCalls.write(fd, cursor, remaining) }
            if written == 0 { throw DirectIOError(code: EIO) }
            cursor += written
            remaining -= written
        }
    }

    /// Runs one transfer until it neither fails with EINTR nor is refused in direct mode.
    private func retrying(_ transfer: () -> Int) throws(DirectIOError) -> Int {
        while true {
            let result = transfer()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            if code == EINVAL, isDirect {
                leaveDirectMode()
                continue
            }
            throw DirectIOError(code: code)
        }
    }
}
