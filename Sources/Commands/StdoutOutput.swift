import Artifacts
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `pull --output -`: the archive is built and verified exactly as for a file, at a path of its own
/// in the cache (`staging/stdout-<pid>-<random>.tar`), and only once it is complete and every layer
/// matched its digest is it copied to stdout and deleted. So a reader (`| docker load`) gets the
/// whole verified archive or, when anything fails or disagrees, nothing at all.
struct StdoutOutput {
    /// The staged archive's path: what the writer writes and commits to, in place of a destination.
    let stagingPath: String

    /// A fresh staging path under `storeRoot`, after removing archives staged by runs that died.
    init(storeRoot: String) throws {
        let directory = storeRoot + "/staging"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ToolFailure(.notMet, "cannot create \(directory) to stage the archive for stdout: \(error.localizedDescription); check the cache directory")
        }
        Self.removeAbandoned(in: directory)
        stagingPath = "\(directory)/stdout-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16)).tar"
    }

    /// Why `--output -` cannot be used with these options, or nil when it can.
    static func refusal(format: OutputFormat, json: Bool, stdoutIsTerminal: Bool) -> String? {
        if format == .oci {
            return "--output - writes an archive to stdout, but --format oci is a directory; use --format docker-archive or oci-archive with -, or give a directory"
        }
        if json {
            return "--json prints its document on stdout, which --output - uses for the archive; leave out --json"
        }
        if stdoutIsTerminal {
            return "--output - writes a tar archive to stdout, which is a terminal here; pipe it (`3tofu pull REF --output - | docker load`) or redirect it (`> image.tar`)"
        }
        return nil
    }

    /// Copies the staged archive to stdout, then deletes it. A reader that goes away (a closed
    /// pipe) is an error that says how much it got, never a silent death by SIGPIPE.
    func deliver() throws {
        defer { unlink(stagingPath) }
        let input = open(stagingPath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard input >= 0 else {
            throw ToolFailure(.notMet, "cannot open the staged archive \(stagingPath): \(String(cString: strerror(errno))); nothing was written to stdout")
        }
        defer { close(input) }
        signal(SIGPIPE, SIG_IGN)
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var sent: Int64 = 0
        while true {
            let count = read(input, buffer, size)
            if count < 0 {
                if errno == EINTR { continue }
                throw ToolFailure(.notMet, "cannot read the staged archive \(stagingPath) after \(sent) bytes: \(String(cString: strerror(errno))); stdout got an incomplete archive")
            }
            if count == 0 { return }
            var offset = 0
            while offset < count {
                let written = write(STDOUT_FILENO, buffer + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    let reason = errno == EPIPE ? "the reading program closed the pipe" : String(cString: strerror(errno))
                    throw ToolFailure(.notMet, "could not write the archive to stdout after \(sent) bytes: \(reason); the reader got an incomplete archive")
                }
                offset += written
                sent += Int64(written)
            }
        }
    }

    /// Removes `stdout-<pid>-…` archives (and their `.stdout-<pid>-…` temporaries) whose run is gone.
    static func removeAbandoned(in directory: String) {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let name = entry.hasPrefix(".") ? entry.dropFirst() : Substring(entry)
            guard name.hasPrefix("stdout-") else { continue }
            let rest = name.dropFirst("stdout-".count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            if kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: directory + "/" + entry)
            }
        }
    }
}
