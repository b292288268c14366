import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, throwing wrappers over the POSIX calls the store and the writers need.
enum FileSystem {
    static let chunkSize = 1 << 20

    /// `strerror(errno)` for the current `errno`.
    static func lastError() -> String {
        String(cString: strerror(errno))
    }

    static func ioError(_ what: String, _ path: String, advice: String = "") -> ArtifactsError {
        let reason = lastError()
        let tail = advice.isEmpty ? "" : "; \(advice)"
        return ArtifactsError(.io, "could not \(what) \(path): \(reason)\(tail)")
    }

    /// The size of a regular file, or nil when there is no regular file at `path` (a symbolic
    /// link is not followed: it is not a regular file).
    static func regularFileSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether a directory itself (not a link to one) is at `path`.
    static func isDirectoryNoFollow(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether anything (even a dangling symlink) is at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` and any missing parents; `mode` (e.g. 0700 for the cache) is given to each
    /// directory it creates, whatever the umask adds.
    static func makeDirectories(_ path: String, mode: Int? = nil) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: mode.map { [.posixPermissions: $0] })
        } catch {
            throw ArtifactsError(.io, "could not create directory \(path): \(error); check permissions and free space")
        }
    }

    /// Opens a regular file for reading, never through a symbolic link (`O_NOFOLLOW`) and
    /// without blocking on a FIFO or device (`O_NONBLOCK`, then `fstat`).
    static func openForReading(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP {
                throw ArtifactsError(.io, "\(path) is a symbolic link; 3tofu does not follow links in its cache or outputs, remove it")
            }
            throw ioError("open", path)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw ArtifactsError(.io, "\(path) is not a plain file; remove it")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Reads the whole regular file at `path` (not through a link), which has `size` bytes.
    static func readWholeFile(_ path: String, size: Int64) throws -> Data {
        let fd = try openForReading(path)
        defer { close(fd) }
        var data = Data(count: Int(size))
        var filled = 0
        try data.withUnsafeMutableBytes { buffer in
            while filled < buffer.count {
                let count = try readSome(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]), path: path)
                if count == 0 { break }
                filled += count
            }
        }
        guard filled == Int(size) else {
            throw ArtifactsError(.sizeMismatch, "\(path) changed while it was read (\(filled) of \(size) bytes)")
        }
        return data
    }

    /// Creates a new file; fails if something is already there.
    static func createExclusive(_ path: String, mode: mode_t = 0o644) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ioError("create", path, advice: "check that the directory exists and is writable") }
        return fd
    }

    /// Writes every byte of `buffer`, retrying on short writes and EINTR.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { throw ioError("write to", path, advice: "the reading program closed the pipe before the end") }
                throw ioError("write to", path, advice: "check free space")
            }
            remaining -= written
            base = base.advanced(by: written)
        }
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        while true {
            let count = read(fd, base, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("read", path)
            }
            return count
        }
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw ioError("flush (fsync)", path) }
    }

    /// Empties the file open at `fd` and moves its offset back to the start, to write it anew.
    static func truncate(_ fd: Int32, path: String) throws {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else { throw ioError("empty (ftruncate)", path) }
    }

    /// Makes a rename or link inside `directory` durable; best effort.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// `rename(2)`: atomic within one file system, replacing a file or an empty directory.
    static func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else {
            throw ioError("move \(from) to", to)
        }
    }

    /// Writes `data` to a new file at `path` (which must not exist) and flushes it to disk.
    static func writeNewFile(_ path: String, _ data: Data) throws {
        let fd = try createExclusive(path)
        defer { close(fd) }
        try writeAll(fd, data, path: path)
        try sync(fd, path: path)
    }

    /// Copies `size` bytes of `source` into a new file at `destination` (which must not exist).
    static func copyFile(_ source: String, to destination: String, size: Int64) throws {
        let input = try openForReading(source)
        defer { close(input) }
        let output = try createExclusive(destination)
        defer { close(output) }
        var remaining = size
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while remaining > 0 {
            let want = Int(min(Int64(chunkSize), remaining))
            let count = try readSome(input, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), path: source)
            guard count > 0 else {
                throw ArtifactsError(.sizeMismatch, "\(source) ended \(remaining) bytes early while copying it to \(destination); the file changed or is damaged")
            }
            try writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), path: destination)
            remaining -= Int64(count)
        }
        try sync(output, path: destination)
    }

    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The directory part of `path` ("." when there is none).
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// The last component of `path`, ignoring trailing slashes.
    static func baseName(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return String(trimmed) }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// A short random lowercase hex string for temporary names.
    static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }
}
