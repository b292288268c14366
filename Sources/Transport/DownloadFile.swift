import DirectIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file a 2xx response body goes to, for every transport (libcurl here, the SSH vantages'
/// remote curl and `3tofu agent`): a 206 continues what the file holds, any other 2xx replaces
/// it. Blobs are written once and fsynced when committed, so the bytes go out directly in 1 MiB
/// requests (`AlignedFileWriter`) instead of small writes through the page cache. `finish()`
/// writes out what is still buffered, also after a failed transfer, so a resume starts from
/// every byte received. Errors are the errno of the failed call. A `BodyTap` sees every byte
/// after the file writer took it.
package final class DownloadFile {
    public let path: String
    private var fd: Int32
    private let writer: AlignedFileWriter
    private let tap: (any BodyTap)?

    package init(path: String, status: Int, tap: (any BodyTap)? = nil) throws(DirectIOError) {
        let mode = status == 206 ? O_APPEND : O_TRUNC
        // Never through a link, never blocked by a FIFO, never into anything but a plain file.
        let opened = open(path, O_WRONLY | O_CREAT | mode | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
        guard opened >= 0 else { throw DirectIOError(code: errno) }
        var info = stat()
        guard fstat(opened, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(opened)
            throw DirectIOError(code: EINVAL)
        }
        _ = fcntl(opened, F_SETFL, fcntl(opened, F_GETFL) & ~O_NONBLOCK)
        self.path = path
        fd = opened
        writer = AlignedFileWriter(fileDescriptor: opened)
        self.tap = tap
        tap?.begin(appending: status == 206)
    }

    deinit { try? finish() }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(DirectIOError) {
        try writer.write(bytes)
        tap?.receive(bytes)
    }

    /// Writes out what is buffered and closes the file; later calls do nothing.
    public func finish() throws(DirectIOError) {
        guard fd >= 0 else { return }
        defer {
            close(fd)
            fd = -1
            tap?.end()
        }
        try writer.finish()
    }
}
