import Artifacts
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a small file whole, with the given mode from the start, replacing any file there
/// (through `journal`, when there is one, so that a failed run can take it back).
enum SmallFileWriter {
    static func write(_ data: Data, to path: String, mode: mode_t, journal: CommitJournal? = nil) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).3tofu-tmp-\(UUID().uuidString.prefix(8))").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            throw ToolFailure(.badInput, "cannot create \(path): \(String(cString: strerror(errno))); check that its directory exists and is writable")
        }
        #if canImport(Glibc)
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        #else
        let written = data.withUnsafeBytes { Darwin.write(fd, $0.baseAddress, $0.count) }
        #endif
        let failed = written != data.count || fchmod(fd, mode) != 0 || fsync(fd) != 0
        var reason = failed ? String(cString: strerror(errno)) : nil
        close(fd)
        if reason == nil {
            do {
                if let journal {
                    try journal.replace(temporary, at: path)
                } else if rename(temporary, path) != 0 {
                    reason = String(cString: strerror(errno))
                }
            } catch let error as ArtifactsError {
                reason = error.message
            }
        }
        if let reason {
            unlink(temporary)
            throw ToolFailure(.notMet, "cannot write \(path): \(reason)")
        }
    }
}
