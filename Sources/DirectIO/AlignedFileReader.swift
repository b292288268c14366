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

    /// Opens `path` for reading and starts reading; throws the errno of `open`. A symbolic link
    /// is not followed (ELOOP), and anything but a regular file is refused (EINVAL), so a planted
    /// link or FIFO can neither redirect nor block the read.
    public init(path: String, bufferSize: Int = 1 << 20, readAheadBuffers: Int = 3, direct: Bool = true) throws(DirectIOError) {
        let opened = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard opened >= 0 else { throw DirectIOError(code: errno) }
        var info = stat()
        guard fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(opened)
            throw DirectIOError(code: EINVAL)
        }
        _ = fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK)
        fd = opened
        let file = DirectFile(fd: opened, direct: direct)
        readAhead = ReadAhead(slots: readAheadBuffers, bufferSize: bufferSize) { base, count throws(DirectIOError) in
            // A short read leaves the offset unaligned; only the end of the file does that in
            // practice, and a direct read refused there is retried buffered.
            try file.read(into: base, count: count)
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
}
