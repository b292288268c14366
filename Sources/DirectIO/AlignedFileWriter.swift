#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends to a file through two page-aligned buffers: while one is written out (in whole
/// buffers, with O_DIRECT where the file system supports it, on a thread of its own) the caller
/// fills the other. Streamed data is written once, in large requests, without filling the page
/// cache, and the producer (a download, an archive being assembled) rarely waits for the disk.
///
/// Bytes sit in the buffers until one is full or `finish()` runs: call `finish()` before closing
/// the file (and before an fsync), also after a failed transfer, so what was received is on
/// disk for a resume. The tail that does not fill a whole block is written with O_DIRECT turned
/// off again. Any transfer the file system refuses in direct mode is retried buffered, and the
/// writer stays buffered from then on. A failed write is thrown by the next `write` or by
/// `finish`. Not thread-safe: one writer, one thread at a time.
public final class AlignedFileWriter {
    private let output: DirectFile
    private let buffers: [AlignedBuffer]
    private var current = 0
    private var filled = 0
    private let behind = WriteBehind()
    /// Bytes handed to `write` so far.
    public private(set) var bytesAccepted: Int64 = 0

    /// `fileDescriptor` stays the caller's to fsync and close. Direct mode is used only when
    /// `direct` is true, the platform has O_DIRECT, and the file's current end is block-aligned
    /// (an append to a partial file of odd length stays buffered).
    public init(fileDescriptor: Int32, bufferSize: Int = 1 << 20, direct: Bool = true) {
        output = DirectFile(fd: fileDescriptor, direct: direct && AlignedBuffer.isAligned(Self.writePosition(of: fileDescriptor)))
        buffers = [AlignedBuffer(size: bufferSize), AlignedBuffer(size: bufferSize)]
    }

    deinit {
        try? behind.drain()
        for buffer in buffers { buffer.deallocate() }
    }

    /// Whether O_DIRECT is on for the file descriptor (settled once `finish()` has returned).
    public var isDirect: Bool { output.isDirect }

    /// Copies `bytes` into the current buffer, handing it to the write-behind thread each time it fills.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(DirectIOError) {
        guard var source = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let buffer = buffers[current]
            let count = min(remaining, buffer.count - filled)
            (buffer.base + filled).copyMemory(from: source, byteCount: count)
            filled += count
            source += count
            remaining -= count
            bytesAccepted += Int64(count)
            if filled == buffer.count {
                let output = self.output
                // Returns once the write before it (from the other buffer) is done.
                try behind.submit { () throws(DirectIOError) in try output.writeAll(buffer.base, count: buffer.count) }
                current = 1 - current
                filled = 0
            }
        }
    }

    /// Waits for the write in flight, then writes out what is buffered: whole blocks directly,
    /// the tail buffered.
    public func finish() throws(DirectIOError) {
        try behind.drain()
        guard filled > 0 else { return }
        let base = buffers[current].base
        let aligned = output.isDirect ? filled / AlignedBuffer.alignment * AlignedBuffer.alignment : 0
        if aligned > 0 {
            try output.writeAll(base, count: aligned)
        }
        if filled > aligned {
            output.leaveDirectMode()
            try output.writeAll(base + aligned, count: filled - aligned)
        }
        filled = 0
    }

    /// Where the next write lands: the end of the file for O_APPEND, else the current offset.
    private static func writePosition(of fd: Int32) -> Int64 {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0, flags & O_APPEND != 0 {
            var info = stat()
            return fstat(fd, &info) == 0 ? Int64(info.st_size) : -1
        }
        return Int64(lseek(fd, 0, SEEK_CUR))
    }
}
