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
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
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

    /// Copies the staged archive to stdout, hashing it on the way against `sha256` (what the writer
    /// computed), then deletes it. A reader that goes away (a closed pipe) is an error that says how
    /// much it got, never a silent death by SIGPIPE; bytes that changed on disk since they were
    /// written fail the run.
    func deliver(sha256: String) throws {
        defer { unlink(stagingPath) }
        signal(SIGPIPE, SIG_IGN)
        do {
            try FileOutput.send(stagingPath, to: STDOUT_FILENO, sha256: sha256)
        } catch let error as ArtifactsError {
            throw ToolFailure(.notMet, error.message)
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
