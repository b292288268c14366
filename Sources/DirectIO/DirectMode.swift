import CDirectIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns O_DIRECT on or off for an open file descriptor.
///
/// Direct I/O moves bytes between the process's buffer and the disk without going through the
/// page cache. For a pull that writes each blob once and fsyncs it, that skips filling (and, on
/// virtual machines, first touching) hundreds of megabytes of cache pages. File systems that do
/// not support it (some tmpfs, FUSE, network file systems) refuse the flag; the caller then
/// simply stays buffered.
enum DirectMode {
    /// O_DIRECT of this platform, 0 where there is none.
    static let flag: Int32 = tofu_o_direct_flag()

    /// Whether `THREETOFU_DIRECT_IO=0` asks for plain buffered I/O (for comparisons, or a file
    /// system that accepts the flag but misbehaves with it).
    static let disabledByEnvironment: Bool = {
        guard let value = getenv("THREETOFU_DIRECT_IO") else { return false }
        return String(cString: value) == "0"
    }()

    /// Sets O_DIRECT on `fd`; returns whether it is now on.
    static func enable(_ fd: Int32) -> Bool {
        guard flag != 0, !disabledByEnvironment else { return false }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return false }
        if flags & flag != 0 { return true }
        return fcntl(fd, F_SETFL, flags | flag) == 0
    }

    /// Clears O_DIRECT on `fd` (for an unaligned tail, or after the file system refused a transfer).
    static func disable(_ fd: Int32) {
        guard flag != 0 else { return }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, flags & flag != 0 else { return }
        _ = fcntl(fd, F_SETFL, flags & ~flag)
    }
}
