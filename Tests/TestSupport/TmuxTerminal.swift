import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real terminal for a command: a private tmux server (its own socket) runs `command` in a pane
/// of `width` × `height`, and `screen()` reads what the pane shows, as a user would see it (tmux
/// interprets every escape sequence). The pane stays open after the command ends, so its last
/// screen can still be read; `exitStatus()` tells how it ended.
public final class TmuxTerminal: @unchecked Sendable {
    let directory: TemporaryDirectory
    let socket: String
    let statusFile: String
    /// The tmux server's process, ended by `stop()` if `kill-server` left it.
    private(set) var serverPID: Int32?

    /// `environment` is the command's whole environment (PATH is added). Nothing of it is put on a
    /// command line: it goes into a script file in a private directory.
    public init(_ command: [String], environment: [String: String], width: Int = 100, height: Int = 40) throws {
        directory = try TemporaryDirectory(prefix: "tmux")
        socket = directory.file("s")
        statusFile = directory.file("status")
        var env = environment
        env["PATH"] = env["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        // After the command, the pane waits on its terminal (never a timer) so the screen stays.
        let script = "#!/bin/sh\n" + env.sorted { $0.key < $1.key }.map { "export \($0.key)=\(quoted($0.value))\n" }.joined()
            + command.map(quoted).joined(separator: " ") + "\necho $? > \(quoted(statusFile))\nexec cat >/dev/null\n"
        let scriptPath = directory.file("run.sh")
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        // python3 starts tmux with every descriptor above 2 closed (close_fds).
        let status = try Self.spawnAndWait(
            [try Shell.resolveExecutable("python3"), "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:], close_fds=True))",
             try Shell.resolveExecutable("tmux"), "-S", socket, "-f", "/dev/null", "new-session", "-d", "-x", "\(width)", "-y", "\(height)", "-s", "t",
             "sh \(scriptPath)"])
        guard status == 0 else {
            throw FixtureError("tmux could not start a session (exit \(status)); install tmux")
        }
        let pid = try Shell.run(["tmux", "-S", socket, "display-message", "-p", "-t", "t", "#{pid}"])
        serverPID = Int32(pid.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Runs `arguments` with stdin, stdout and stderr on /dev/null, and waits for it. Not `Shell.run`: the tmux server it leaves behind would inherit what
    /// Foundation's `Process` watches for the end of the client, which would then never come.
    static func spawnAndWait(_ arguments: [String]) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw FixtureError("could not start \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (status >> 8) & 0xFF
    }

    /// The pane as it is shown now, one string per row, trailing blanks removed.
    public func screen() throws -> String {
        let capture = try Shell.run(["tmux", "-S", socket, "capture-pane", "-p", "-t", "t"])
        guard capture.status == 0 else { throw FixtureError("tmux capture-pane failed: \(capture.stderr)") }
        return capture.stdout
    }

    /// Reads the screen until `predicate` holds (returning that screen) or `timeout` passes (nil).
    public func waitForScreen(timeout: Duration = .seconds(60), _ predicate: (String) -> Bool) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let shown = try screen()
            if predicate(shown) { return shown }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// The command's exit status once it has ended, nil before.
    public func exitStatus() -> Int32? {
        guard let text = try? String(contentsOfFile: statusFile, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Waits for the command to end; its exit status, or nil when `timeout` passed first.
    public func waitForExit(timeout: Duration = .seconds(300)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus() { return status }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    public func stop() {
        _ = try? Self.spawnAndWait([(try? Shell.resolveExecutable("tmux")) ?? "/usr/bin/tmux", "-S", socket, "kill-server"])
        if let serverPID, kill(serverPID, 0) == 0 { kill(serverPID, SIGKILL) }
        serverPID = nil
    }

    deinit {
        stop()
    }
}
