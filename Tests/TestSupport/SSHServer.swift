import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real OpenSSH server (`/usr/sbin/sshd`) on 127.0.0.1:<free port> with its own ed25519
/// host key, one authorized ed25519 user key, and a known_hosts file that vouches for it.
/// Logs in as the user running the tests. `environment` becomes `SetEnv` lines, so a test can
/// give remote commands another PATH (for instance a `curl` wrapper), or another HOME (whose
/// `.bashrc` the login shell, bash, then reads for every command sshd starts).
///
/// sshd runs as a daemon (not `-D` under `Process`): it closes every inherited descriptor, which
/// makes Foundation's `Process` believe it exited and block its monitor thread in `waitpid`
/// (hanging every later `Process` in the test run). It is stopped through its pid file.
public final class SSHServer: Sendable {
    public let host = "127.0.0.1"
    public let port: Int
    public let user: String
    public let directory: TemporaryDirectory
    /// The authorized private key (no passphrase) and its `.pub`.
    public let userKeyPath: String
    /// A known_hosts file with this server's host key (plain `[127.0.0.1]:PORT` entry).
    public let knownHostsPath: String
    public let hostKeyPath: String
    public let pidFilePath: String
    /// `SHA256:…` of the host key, as `ssh-keygen -lf` prints it.
    public let hostKeyFingerprint: String
    public let logPath: String
    /// The listening daemon's pid (the session processes are its children).
    public let daemonPID: Int32

    /// `hostKeyTypes`: the server's host keys (ssh-keygen -t names); only the first is in `knownHostsPath`.
    public init(environment: [String: String] = [:], hostKeyTypes: [String] = ["ed25519"]) async throws {
        let directory = try TemporaryDirectory(prefix: "sshd")
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let hostKeyPaths = hostKeyTypes.map { directory.file("ssh_host_\($0)_key") }
        let hostKeyPath = hostKeyPaths.first ?? directory.file("ssh_host_ed25519_key")
        let userKeyPath = directory.file("id_ed25519")
        for (type, path) in zip(hostKeyTypes, hostKeyPaths) {
            try Self.makeKey(at: path, type: type, comment: "3tofu-test-host")
        }
        try Self.makeKey(at: userKeyPath, comment: "3tofu-test-user")
        try FileManager.default.copyItem(atPath: userKeyPath + ".pub", toPath: directory.file("authorized_keys"))
        let fingerprintLine = try Shell.check(["ssh-keygen", "-l", "-E", "sha256", "-f", hostKeyPath + ".pub"])
        guard let fingerprint = fingerprintLine.split(separator: " ").first(where: { $0.hasPrefix("SHA256:") }) else {
            throw FixtureError("ssh-keygen -l printed no SHA256 fingerprint: \(fingerprintLine)")
        }
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let pidFilePath = directory.file("sshd.pid")
        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            var config = """
                Port \(port)
                ListenAddress 127.0.0.1
                \(hostKeyPaths.map { "HostKey \($0)" }.joined(separator: "\n"))
                AuthorizedKeysFile \(directory.file("authorized_keys"))
                PidFile \(pidFilePath)
                UsePAM no
                StrictModes no
                PermitRootLogin yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PubkeyAuthentication yes
                MaxStartups 100
                MaxSessions 50
                LogLevel VERBOSE

                """
            // One line: sshd takes only the first SetEnv line.
            if !environment.isEmpty {
                config += "SetEnv " + environment.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\"\($0.value)\"" }.joined(separator: " ") + "\n"
            }
            let configPath = directory.file("sshd_config")
            try config.write(toFile: configPath, atomically: true, encoding: .utf8)
            let logPath = directory.file("sshd-\(port).log")
            try? FileManager.default.removeItem(atPath: pidFilePath)
            let started = try Shell.run(["/usr/sbin/sshd", "-f", configPath, "-E", logPath], timeout: .seconds(20))
            let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
            guard started.status == 0 else {
                lastError = FixtureError("sshd exited with status \(started.status): \(started.stderr)\n\(log())")
                if log().contains("Address already in use") { continue }
                break
            }
            let currentPID = { (try? String(contentsOfFile: pidFilePath, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
            let patience = Duration.seconds(20)
            let deadline = ContinuousClock.now.advanced(by: patience)
            while ContinuousClock.now < deadline, currentPID() == nil || !FreePort.isAccepting(port: port) {
                try await Task.sleep(for: .milliseconds(25))
            }
            // Looked at again after the loop: on a loaded machine this task may wake only after the
            // deadline, when the daemon has long been listening.
            guard let pid = currentPID(), FreePort.isAccepting(port: port) else {
                // A fresh port and daemon is the cure (the failure is in starting the fixture, not in
                // what the tests check). A daemon that writes its pid file late must not outlive the
                // failed attempt.
                let early = currentPID()
                lastError = FixtureError(
                    "sshd did not listen on 127.0.0.1:\(port) within \(patience) (\(early.map { kill($0, 0) == 0 ? "pid \($0) alive" : "pid \($0) gone" } ?? "no pid file")); log:\n\(log())")
                if early == nil { try await Task.sleep(for: .seconds(1)) }
                if let stray = early ?? currentPID() { Self.terminate(stray) }
                continue
            }
            let publicKey = try String(contentsOfFile: hostKeyPath + ".pub", encoding: .utf8)
            let parts = publicKey.split(separator: " ")
            guard parts.count >= 2 else { throw FixtureError("unreadable host public key: \(publicKey)") }
            let knownHostsPath = directory.file("known_hosts")
            try "[127.0.0.1]:\(port) \(parts[0]) \(parts[1])\n".write(toFile: knownHostsPath, atomically: true, encoding: .utf8)
            self.port = port
            self.user = user
            self.directory = directory
            self.userKeyPath = userKeyPath
            self.knownHostsPath = knownHostsPath
            self.hostKeyPath = hostKeyPath
            self.pidFilePath = pidFilePath
            self.hostKeyFingerprint = String(fingerprint)
            self.logPath = logPath
            self.daemonPID = pid
            return
        }
        throw lastError ?? FixtureError("sshd did not start")
    }

    /// Creates a key pair (ed25519 unless `type` says otherwise) (`path`, `path.pub`) without a passphrase, or with `passphrase`.
    public static func makeKey(at path: String, type: String = "ed25519", comment: String = "3tofu-test", passphrase: String = "") throws {
        try Shell.check(["ssh-keygen", "-q", "-t", type, "-N", passphrase, "-C", comment, "-f", path])
    }

    /// A known_hosts file for this server's address holding `otherKey`'s public key instead of the real one.
    public func knownHostsWithAnotherKey() throws -> String {
        let other = directory.file("impostor_\(UUID().uuidString.prefix(6))")
        try Self.makeKey(at: other, comment: "impostor")
        let publicKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
        let path = directory.file("known_hosts_other_\(UUID().uuidString.prefix(6))")
        try "[127.0.0.1]:\(port) \(publicKey[0]) \(publicKey[1])\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A copy of `knownHostsPath` with hashed host names (`ssh-keygen -H`), as OpenSSH writes by default on Debian.
    public func hashedKnownHosts() throws -> String {
        let path = directory.file("known_hosts_hashed")
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: knownHostsPath, toPath: path)
        try Shell.check(["ssh-keygen", "-H", "-f", path])
        return path
    }

    deinit { killEverything() }

    /// Everything sshd logged (`-E`).
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits (up to `timeout`) until sshd's log satisfies `condition`; false when it never did.
    public func waitForLog(timeout: Duration = .seconds(30), _ condition: (String) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition(log()) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition(log())
    }

    /// Stops the listener; sessions already open stay open until their sshd child exits.
    public func stop() {
        guard isStillOurDaemon else { return }
        Self.terminate(daemonPID)
    }

    /// Kills the listener and every process below it (sessions and their commands): open
    /// connections drop at once.
    public func killEverything() {
        guard isStillOurDaemon else { return }
        let descendants = Self.descendants(of: daemonPID)
        Self.terminate(daemonPID)
        for pid in descendants { kill(pid, SIGKILL) }
    }

    /// Whether `daemonPID` is still this server's listener. Once it is gone the number may be
    /// given to another process (pid_max is 32768 here and wraps during long runs), which a
    /// later stop, or the deinit, must not kill: its command line names this server's directory.
    private var isStillOurDaemon: Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(daemonPID)/cmdline") else { return false }
        return String(decoding: data, as: UTF8.self).contains(directory.path)
    }

    /// SIGKILL (a blocked SIGTERM mask may be inherited from the test runner); the daemon is
    /// reaped by init, so only wait for it to disappear.
    static func terminate(_ pid: Int32) {
        guard kill(pid, 0) == 0 else { return }
        kill(pid, SIGKILL)
        for _ in 0..<100 where kill(pid, 0) == 0 { usleep(10_000) }
    }

    public static func descendants(of pid: Int32) -> [Int32] {
        let output = (try? Shell.run(["pgrep", "-P", String(pid)]))?.stdout ?? ""
        let children = output.split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
        return children + children.flatMap { descendants(of: $0) }
    }
}
