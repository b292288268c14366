#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file from the start in whole aligned buffers, with O_DIRECT where the file system
/// supports it, a few buffers ahead of the consumer on a thread of its own: a blob that was
/// written directly is copied into an archive without being pulled into the page cache, and the
/// disk reads overlap with hashing and writing. Falls back to buffered reads when the file system
/// refuses a transfer. Not thread-safe: one consumer.
public final class AlignedFileReader {
    private let fd: Int32
    private let readAhead: ReadAhead

    /// Opens `path` for reading and starts reading; throws the errno of `open`.
    public init(path: String, bufferSize: Int = 1 << 20, readAheadBuffers: Int = 3, direct: Bool = true) throws(DirectIOError) {
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw DirectIOError(code: errno) }
        fd = opened
        let state = DirectState(fd: opened, isDirect: direct && DirectMode.enable(opened))
        readAhead = ReadAhead(slots: readAheadBuffers, bufferSize: bufferSize) { base, count throws(DirectIOError) in
            try state.read(into: base, count: count)
        }
    }

    deinit {
        readAhead.stop()
        close(fd)
    }

    /// The next bytes of the file (a full buffer unless the file ends first; empty at the end).
    /// The view is valid until the next call.
    public func next() throws(DirectIOError) -> UnsafeRawBufferPointer {
        try readAhead.next()
    }

    /// The read side's file descriptor and mode, used only by the read-ahead thread.
    private final class DirectState: @unchecked Sendable {
        let fd: Int32
        var isDirect: Bool

        init(fd: Int32, isDirect: Bool) {
            self.fd = fd
            self.isDirect = isDirect
        }

        func read(into base: UnsafeMutableRawPointer, count: Int) throws(DirectIOError) -> Int {
            while true {
                // A short read leaves the offset unaligned; only the end of the file does that in
                // practice, and a direct read refused there (EINVAL) is retried buffered.
                let received = SystemCalls.read(fd, base, count)
                if received >= 0 { return received }
                let code = errno
                if code == EINTR { continue }
                if code == EINVAL, isDirect {
                    DirectMode.disable(fd)
                    isDirect = false
                    continue
                }
                throw DirectIOError(code: code)
            }
        }
    }
}
