import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a docker credential helper as docker and containers/image do: `docker-credential-NAME get`,
/// the server name on stdin, `{"ServerURL", "Username", "Secret"}` on stdout, and "credentials not
/// found" on its output when it holds no login for that server. The helper runs in a process group
/// of its own and is killed with everything it started when it takes longer than `timeout`.
public enum CredentialHelper {
    /// How long one helper may take (a keychain or `pass` asks gpg; a cloud helper may ask the network).
    public static let timeout: Double = 30
    /// The most output a helper may give; a login is a few hundred bytes.
    static let outputLimit = 64 * 1024

    public enum Answer: Sendable, Equatable {
        case found(RegistryCredential)
        case notFound
    }

    /// `source` says where the helper was named (`credsStore in /home/u/.docker/config.json`).
    public static func get(
        _ name: String, server: String, source: String, environment: [String: String], timeout: Double = timeout
    ) throws -> Answer {
        let program = "docker-credential-\(name)"
        let named = "the credential helper \(program) (\(source))"
        guard !name.isEmpty, !name.contains("/"), !name.contains("\0") else {
            throw RegistryError(.loginUnusable, "\(source) names the credential helper '\(name)', which is not a helper name; fix the file")
        }
        guard let path = locate(program, path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") else {
            throw RegistryError(.loginUnusable, "\(named) is not installed or not on PATH; install it, remove it from that file, or give the login another way (--authfile FILE, --creds USER)")
        }
        let run = try Spawned.run(path, arguments: ["get"], input: Data(server.utf8), environment: environment, timeout: timeout, outputLimit: outputLimit)
        switch run.end {
        case .timedOut:
            throw RegistryError(.loginFailed, "\(named) did not answer for \(server) within \(Int(timeout)) s and was stopped; check that it is not waiting for input (a locked keychain, a gpg passphrase prompt)")
        case .tooMuchOutput:
            throw RegistryError(.loginFailed, "\(named) printed more than \(outputLimit / 1024) KiB for \(server) and was stopped; it is not behaving as a credential helper")
        case .exited(let status):
            let stdout = String(decoding: run.stdout, as: UTF8.self)
            if stdout.lowercased().contains("credentials not found") {
                return .notFound
            }
            guard status == 0 else {
                throw RegistryError(.loginFailed, "\(named) failed for \(server) (exit status \(status)\(Self.summary(run.stderr, stdout: run.stdout))); run `\(program) get` by hand to see why")
            }
            return try parse(run.stdout, named: named, server: server)
        case .signalled(let signal):
            throw RegistryError(.loginFailed, "\(named) was killed by signal \(signal) while looking up \(server)")
        }
    }

    static func parse(_ data: Data, named: String, server: String) throws -> Answer {
        struct Output: Decodable {
            var Username: String?
            var Secret: String?
        }
        guard let output = try? JSONDecoder().decode(Output.self, from: data), let username = output.Username, let secret = output.Secret else {
            throw RegistryError(.loginFailed, "\(named) answered for \(server) with something other than {\"Username\", \"Secret\"}; it is not behaving as a credential helper")
        }
        // An empty answer is no login (docker-credential-pass gives one for an erased entry);
        // containers/image treats it so too.
        if username.isEmpty && secret.isEmpty {
            return .notFound
        }
        if username == "<token>" {
            throw RegistryError(.loginUnusable, "\(named) holds an identity token for \(server), which 3tofu cannot use; log in with a user name and password or token (`docker login -u USER`), or pass --creds USER")
        }
        return .found(RegistryCredential(username: username, password: secret))
    }

    /// The first line the helper wrote on stderr (else stdout), shortened: what went wrong, in its words.
    /// Only a failed helper's output is shown, and never a JSON answer (which would hold a secret).
    static func summary(_ stderr: Data, stdout: Data) -> String {
        for data in [stderr, stdout] {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, !text.hasPrefix("{") else { continue }
            let line = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? text
            return ": " + (line.count > 200 ? String(line.prefix(200)) + "…" : line)
        }
        return ""
    }

    static func locate(_ program: String, path: String) -> String? {
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }
}

/// A child process with its input given, its output collected (bounded), and a deadline: past it,
/// its whole process group is killed.
enum Spawned {
    enum End: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
        case tooMuchOutput
    }

    struct Result {
        var end: End
        var stdout = Data()
        var stderr = Data()
    }

    static func run(_ path: String, arguments: [String], input: Data, environment: [String: String], timeout: Double, outputLimit: Int) throws -> Result {
        var stdinPipe: [Int32] = [-1, -1], stdoutPipe: [Int32] = [-1, -1], stderrPipe: [Int32] = [-1, -1]
        // Close-on-exec: the child gets only the ends dup2'd onto 0, 1 and 2. (Glibc's pipe2 is not
        // visible to Swift without _GNU_SOURCE.)
        func cloexecPipe(_ fds: inout [Int32]) -> Bool {
            pipe(&fds) == 0 && fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 && fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0
        }
        guard cloexecPipe(&stdinPipe), cloexecPipe(&stdoutPipe), cloexecPipe(&stderrPipe) else {
            let reason = String(cString: strerror(errno))
            for fd in stdinPipe + stdoutPipe + stderrPipe where fd >= 0 { close(fd) }
            throw RegistryError(.loginFailed, "cannot start \(path): \(reason)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A process group of its own (so a timeout kills what it started too), and SIGPIPE as
        // usual in the child even though 3tofu ignores it.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard spawned == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw RegistryError(.loginFailed, "cannot start \(path): \(String(cString: strerror(spawned)))")
        }

        // The input is a server name: far below a pipe's buffer, so this never blocks. A helper
        // that exits without reading it is judged by its exit status, not by EPIPE here.
        signal(SIGPIPE, SIG_IGN)
        input.withUnsafeBytes { bytes in
            _ = write(stdinPipe[1], bytes.baseAddress, bytes.count)
        }
        close(stdinPipe[1])

        let deadline = monotonicSeconds() + timeout
        var result = Result(end: .timedOut)
        var open: [Int32] = [stdoutPipe[0], stderrPipe[0]]
        defer { for fd in open { close(fd) } }
        var status: Int32 = 0
        var exited = false
        var exitedAt = 0.0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let now = monotonicSeconds()
            if !exited, waitpid(pid, &status, WNOHANG) == pid {
                exited = true
                exitedAt = now
            }
            // Done once the output is closed, or shortly after the helper exited (something it
            // started may keep a copy of its output open).
            if exited && (open.isEmpty || now - exitedAt > 0.2) { break }
            if now >= deadline || result.stdout.count + result.stderr.count > outputLimit {
                let end: End = now >= deadline ? .timedOut : .tooMuchOutput
                kill(-pid, SIGKILL)
                if !exited { while waitpid(pid, &status, 0) == -1 && errno == EINTR {} }
                result.end = end
                return result
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let wait = Int32(max(1, min(50, (deadline - now) * 1000)))
            if fds.isEmpty {
                _ = poll(nil, 0, wait)
                continue
            }
            guard poll(&fds, nfds_t(fds.count), wait) > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    if entry.fd == stdoutPipe[0] {
                        result.stdout.append(contentsOf: buffer[0..<count])
                    } else {
                        result.stderr.append(contentsOf: buffer[0..<count])
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
        if status & 0x7f == 0 {
            result.end = .exited((status >> 8) & 0xff)
        } else {
            result.end = .signalled(status & 0x7f)
        }
        return result
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
