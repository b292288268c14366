import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening and reading files someone else handed over (a report, a key, an artifact to check)
/// without hanging or filling memory: the open never blocks (a FIFO with no writer would), only a
/// regular file (or, where asked, a directory) is accepted, and whole-file reads stop at a cap.
enum BoundedFile {
    /// What `open` found at a path, and the descriptor open on it (the caller closes it).
    struct Opened {
        var fd: Int32
        var isDirectory: Bool
        var size: Int64
    }

    /// Opens `path` for reading without blocking and checks, on the open descriptor (`fstat`),
    /// that it is a regular file, or a directory when `allowDirectory`. With `followLinks` false a
    /// symbolic link at `path` is refused too. `what` names the file in messages ("the report");
    /// with `relativeTo`, `name` is opened in the directory open at `fd` and `path` is only for messages.
    static func openChecked(
        _ path: String, what: String, allowDirectory: Bool = false, followLinks: Bool = true, relativeTo directory: (fd: Int32, name: String)? = nil
    ) throws -> Opened {
        var flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC
        if !followLinks { flags |= O_NOFOLLOW }
        let fd = directory.map { openat($0.fd, $0.name, flags) } ?? open(path, flags)
        guard fd >= 0 else {
            let reason = errno == ELOOP && !followLinks ? "it is a symbolic link, which is not followed here" : String(cString: strerror(errno))
            throw ReportError("cannot open \(what) \(path): \(reason)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ReportError("cannot examine \(what) \(path): \(reason)")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG || (allowDirectory && type == S_IFDIR) else {
            close(fd)
            let wanted = allowDirectory ? "a regular file or a directory" : "a regular file"
            throw ReportError("\(what) \(path) is \(kindName(type)), not \(wanted); refusing to read it")
        }
        // Reads from here on may wait for the disk as usual.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return Opened(fd: fd, isDirectory: type == S_IFDIR, size: Int64(info.st_size))
    }

    /// The whole of the regular file at `path`, refused when it holds more than `limit` bytes.
    static func readWhole(_ path: String, what: String, limit: Int) throws -> Data {
        let opened = try openChecked(path, what: what)
        defer { close(opened.fd) }
        return try readAll(opened.fd, path: path, what: what, limit: limit)
    }

    /// Everything left on `fd`, refused when it is more than `limit` bytes (checked as it reads,
    /// so a file that grows while being read is refused too).
    static func readAll(_ fd: Int32, path: String, what: String, limit: Int) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReportError("cannot read \(what) \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return data }
            guard data.count + count <= limit else {
                throw ReportError("\(what) \(path) is larger than \(describe(limit)), the most 3tofu reads of it; it is not a file 3tofu wrote")
            }
            data.append(contentsOf: buffer[0..<count])
        }
    }

    static func kindName(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// `16 MiB` for 16 << 20.
    static func describe(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : bytes % 1024 == 0 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }
}
