import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Every way a skopeo or docker user keeps a login, against a real TLS docker-registry that requires
/// one (htpasswd, test CA), resolved over three vantages: containers' auth files in skopeo's order,
/// `--authfile`, `--creds` (with the password on the command line, on stdin, or typed at a prompt),
/// `--no-creds`, and docker's credential helpers: the real docker-credential-pass over `pass` and a
/// throw-away gpg key, and scripts only for the faults (a helper that hangs or fails).
@Suite("logins from every source", .serialized)
struct LoginSourceTests {
    static let user = "erin"
    static let password = "l0gin-S0urce-pw"

    /// A registry that wants erin's login, an image on it, and a home with no login at all.
    struct Setup {
        let lab: Lab
        let reference: String
        let vantages: String

        /// The login sources the test does not set are pointed into the empty home, so nothing
        /// from the environment the tests run in can answer.
        var quietEnvironment: [String: String] {
            ["XDG_RUNTIME_DIR": lab.home.file("run"), "XDG_CONFIG_HOME": lab.home.file(".config"), "REGISTRY_AUTH_FILE": "", "DOCKER_CONFIG": ""]
        }

        /// The whole environment of a 3tofu run outside `lab.run` (under a pty or faketime).
        var processEnvironment: [String: String] {
            quietEnvironment.merging(["HOME": lab.home.path, "THREETOFU_CACHE": lab.home.file("cache")]) { _, new in new }
        }

        func arguments() throws -> [String] {
            ["resolve", reference, "--vantages", vantages] + (try lab.registryOptions())
        }

        func resolve(_ extra: [String] = [], environment: [String: String] = [:], stdin: Data? = nil) throws -> ThreeTofuCLI.Result {
            try lab.run(try arguments() + extra, environment: quietEnvironment.merging(environment) { _, new in new }, timeout: .seconds(120), stdin: stdin)
        }

        var host: String { lab.registry.host }
    }

    static func setup(extraVantages: String = "") async throws -> Setup {
        let lab = try await Lab([.tls(try TestCA()), .htpasswd(user: user, password: password)])
        let layout = try lab.makeImage(layers: [2_000], seed: 15)
        _ = try lab.push(layout, "private/app", tag: "1")
        // The Lab writes a docker config with the login; these tests start from none.
        try FileManager.default.removeItem(atPath: lab.home.file(".docker/config.json"))
        try FileManager.default.createDirectory(atPath: lab.home.file("run"), withIntermediateDirectories: true)
        return Setup(lab: lab, reference: "\(lab.registry.host)/private/app:1", vantages: try lab.vantagesFile(extra: extraVantages))
    }

    static func authJSON(_ host: String, password: String = password) -> String {
        #"{"auths": {"\#(host)": {"auth": "\#(Data("\(user):\(password)".utf8).base64EncodedString())"}}}"#
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func expectNoSecret(_ result: ThreeTofuCLI.Result, _ secrets: [String] = [password], sourceLocation: SourceLocation = #_sourceLocation) {
        for secret in secrets + secrets.map({ Data("\(user):\($0)".utf8).base64EncodedString() }) {
            #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret), "a secret was printed", sourceLocation: sourceLocation)
        }
    }

    @Test func authFilesInSkopeosOrder() async throws {
        let s = try await Self.setup()
        defer { s.lab.stop() }

        // Nothing anywhere: refused, and the message names every file looked at.
        let none = try s.resolve()
        #expect(none.status == 2, "\(none.stderr)")
        for tried in [s.lab.home.file("run/containers/auth.json (absent)"), s.lab.home.file(".config/containers/auth.json (absent)"), s.lab.home.file(".docker/config.json (absent)")] {
            #expect(none.stderr.contains(tried), "\(tried) not named: \(none.stderr)")
        }

        // ${XDG_RUNTIME_DIR}/containers/auth.json, where `skopeo login` writes.
        try Self.write(Self.authJSON(s.host), to: s.lab.home.file("run/containers/auth.json"))
        let runtime = try s.resolve()
        #expect(runtime.status == 0, "\(runtime.stderr)")
        #expect(runtime.stdout.contains("\(s.host)/private/app:1@sha256:"), "\(runtime.stdout)")

        // $REGISTRY_AUTH_FILE replaces the default files, as in skopeo: one without the login
        // means no login, though the runtime file still holds it.
        let elsewhere = s.lab.home.file("elsewhere.json")
        try Self.write(#"{"auths": {"other.example": {"auth": "\#(Data("x:y".utf8).base64EncodedString())"}}}"#, to: elsewhere)
        let replaced = try s.resolve(environment: ["REGISTRY_AUTH_FILE": elsewhere])
        #expect(replaced.status == 2, "\(replaced.stderr)")
        #expect(replaced.stderr.contains("\(elsewhere) (no login for \(s.host))"), "\(replaced.stderr)")
        try FileManager.default.removeItem(atPath: s.lab.home.file("run/containers/auth.json"))

        let named = s.lab.home.file("registry-auth.json")
        try Self.write(Self.authJSON(s.host), to: named)
        let viaEnvironment = try s.resolve(environment: ["REGISTRY_AUTH_FILE": named])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")

        // --authfile, which wins over $REGISTRY_AUTH_FILE.
        let flagged = s.lab.home.file("flag-auth.json")
        try Self.write(Self.authJSON(s.host), to: flagged)
        let wrong = s.lab.home.file("wrong-auth.json")
        try Self.write(Self.authJSON(s.host, password: "not-the-pw-4821"), to: wrong)
        let viaFlag = try s.resolve(["--authfile", flagged], environment: ["REGISTRY_AUTH_FILE": wrong])
        #expect(viaFlag.status == 0, "\(viaFlag.stderr)")

        // A wrong password: refused, naming the login's user and file, never the password.
        let refused = try s.resolve(["--authfile", wrong])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("the login for \(Self.user) from \(wrong) was refused"), "\(refused.stderr)")
        Self.expectNoSecret(refused, ["not-the-pw-4821"])

        // A --authfile that is not there is a mistake, not "no login".
        let missing = try s.resolve(["--authfile", s.lab.home.file("nope.json")])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("--authfile \(s.lab.home.file("nope.json"))"), "\(missing.stderr)")
        for result in [none, runtime, replaced, viaEnvironment, viaFlag, missing] { Self.expectNoSecret(result) }
    }

    @Test func credsOnTheCommandLineOnStdinAndNoCreds() async throws {
        let binary = URL(fileURLWithPath: try ThreeTofuCLI.executable).deletingLastPathComponent().path
        let server = try await SSHServer(environment: ["PATH": "\(binary):/usr/bin:/bin"])
        defer { server.stop() }
        let s = try await Self.setup(extraVantages: SSHVantageTests.sshVantage("ssh-curl", server))
        defer { s.lab.stop() }

        let report = s.lab.home.file("given.json")
        let given = try s.resolve(["--creds", "\(Self.user):\(Self.password)", "--report", report])
        #expect(given.status == 0, "\(given.stderr)")
        let reportText = try String(contentsOfFile: report, encoding: .utf8)
        #expect(reportText.contains("\"verdict\"") && !reportText.contains(Self.password) && !reportText.contains("Basic "), "the report holds a secret")

        // A bundle of images on that one registry takes --creds too.
        let list = s.lab.home.file("images.txt")
        try "\(s.reference)\n".write(toFile: list, atomically: true, encoding: .utf8)
        let bundle = try s.lab.run(
            ["pull", "--images-from", list, "--format", "oci", "--output", s.lab.home.file("bundle"), "--vantages", s.vantages, "--creds", Self.user, "--password-stdin"]
                + s.lab.registryOptions(),
            environment: s.quietEnvironment, timeout: .seconds(120), stdin: Data(Self.password.utf8))
        #expect(bundle.status == 0, "\(bundle.stderr)")

        // The password on stdin; the SSH vantage gets the login too (on its stdin, never in argv).
        let piped = try s.resolve(["--creds", Self.user, "--password-stdin"], stdin: Data("\(Self.password)\n".utf8))
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stderr.contains("ssh-curl") && !piped.stderr.contains("FAILED"), "\(piped.stderr)")
        #expect(!server.log().contains(Self.password))

        let wrongPassword = "wr0ng-on-stdin-77"
        let refused = try s.resolve(["--creds", Self.user, "--password-stdin"], stdin: Data("\(wrongPassword)\n".utf8))
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("the login for \(Self.user) from --creds was refused"), "\(refused.stderr)")
        Self.expectNoSecret(refused, [wrongPassword])

        // --no-creds: anonymous although a login is at hand, and the refusal says why.
        try Self.write(Self.authJSON(s.host), to: s.lab.home.file(".docker/config.json"))
        let anonymous = try s.resolve(["--no-creds"])
        #expect(anonymous.status == 2, "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("no login was offered (--no-creds)"), "\(anonymous.stderr)")
        let fromDocker = try s.resolve()
        #expect(fromDocker.status == 0, "docker's config is the last default source: \(fromDocker.stderr)")

        // Contradictory flags are usage errors.
        let both = try s.resolve(["--no-creds", "--creds", Self.user])
        #expect(both.status == 2 && both.stderr.contains("--no-creds cannot be combined"), "\(both.stderr)")
        for result in [given, bundle, piped, anonymous, fromDocker, both] { Self.expectNoSecret(result) }
    }

    /// `--creds USER` asks on the terminal with echo off: a real pty (Python's pty module) types
    /// the password once the question shows, and nothing it typed comes back.
    @Test func credsWithoutPasswordAsksOnTheTerminalWithoutEcho() async throws {
        let s = try await Self.setup()
        defer { s.lab.stop() }
        let driver = """
            import os, pty, select, sys, termios
            secret = os.environ.pop("LOGIN_PASSWORD").encode()
            pid, fd = pty.fork()
            if pid == 0:
                os.execvpe(sys.argv[1], sys.argv[1:], os.environ)
            out, sent = b"", False
            while True:
                ready, _, _ = select.select([fd], [], [], 60)
                if not ready:
                    break
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
                if not sent and b"Password for" in out:
                    os.write(fd, secret + b"\\n")
                    sent = True
            _, status = os.waitpid(pid, 0)
            try:
                echo = 1 if termios.tcgetattr(fd)[3] & termios.ECHO else 0
            except termios.error:
                echo = -1
            out += b"\\nECHO=%d STATUS=%d" % (echo, os.waitstatus_to_exitcode(status))
            sys.stdout.buffer.write(out)
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let result = try Shell.runCapturing(
            ["python3", "-c", driver, try ThreeTofuCLI.executable] + (try s.arguments()) + ["--creds", Self.user],
            env: s.processEnvironment.merging(["LOGIN_PASSWORD": Self.password]) { _, new in new }, timeout: .seconds(120))
        #expect(result.stdout.contains("Password for \(Self.user) at \(s.host): "), "\(result.stdout)")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\(s.host)/private/app:1@sha256:"), "\(result.stdout)")
        #expect(!result.stdout.contains(Self.password), "the password was echoed: \(result.stdout)")
        #expect(result.stdout.hasSuffix("ECHO=1 STATUS=0"), "\(result.stdout)")

        // Ctrl-C at the question: 3tofu dies of it with the terminal's echo back on.
        let interrupted = try Shell.runCapturing(
            ["python3", "-c", driver.replacingOccurrences(of: "secret + b\"\\n\"", with: "b\"\\x03\""), try ThreeTofuCLI.executable]
                + (try s.arguments()) + ["--creds", Self.user],
            env: s.processEnvironment.merging(["LOGIN_PASSWORD": Self.password]) { _, new in new }, timeout: .seconds(120))
        #expect(interrupted.stdout.hasSuffix("ECHO=1 STATUS=-2"), "echo left off, or 3tofu did not die of the SIGINT: \(interrupted.stdout)")
    }

    /// The real docker-credential-pass (Debian's golang-docker-credential-helpers) over `pass`,
    /// with a gpg key made here without a passphrase, in directories of this test only.
    @Test func dockerCredentialPassAsCredHelperAndCredsStore() async throws {
        let s = try await Self.setup()
        defer { s.lab.stop() }
        let gnupg = s.lab.home.file("gnupg")
        try FileManager.default.createDirectory(atPath: gnupg, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let env = ["GNUPGHOME": gnupg, "PASSWORD_STORE_DIR": s.lab.home.file("password-store"), "HOME": s.lab.home.path]
        defer { _ = try? Shell.run(["gpgconf", "--kill", "all"], env: env) }
        try Shell.check(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "3tofu test <logins@3tofu.invalid>", "future-default", "default", "never"],
            env: env)
        try Shell.check(["pass", "init", "logins@3tofu.invalid"], env: env)
        let login = #"{"ServerURL": "\#(s.host)", "Username": "\#(Self.user)", "Secret": "\#(Self.password)"}"#
        try Shell.check(["docker-credential-pass", "store"], env: env, stdin: Data(login.utf8))
        let config = s.lab.home.file(".docker/config.json")

        try Self.write(#"{"auths": {"\#(s.host)": {}}, "credHelpers": {"\#(s.host)": "pass"}}"#, to: config)
        let helper = try s.resolve(environment: env)
        #expect(helper.status == 0, "\(helper.stderr)")

        try Self.write(#"{"auths": {"\#(s.host)": {}}, "credsStore": "pass"}"#, to: config)
        let store = try s.resolve(environment: env)
        #expect(store.status == 0, "\(store.stderr)")

        // Not in the store: anonymous, and the refusal names the helper that was asked.
        try Shell.check(["docker-credential-pass", "erase"], env: env, stdin: Data(s.host.utf8))
        let gone = try s.resolve(environment: env)
        #expect(gone.status == 2, "\(gone.stderr)")
        #expect(gone.stderr.contains("docker-credential-pass (credsStore in \(config)): no login for \(s.host)"), "\(gone.stderr)")
        for result in [helper, store, gone] { Self.expectNoSecret(result) }
    }

    /// A helper that hangs is stopped at the bound (30 s, run here ×20 fast under faketime) with
    /// everything it started; one that fails or is missing is named. Scripts stand in for the
    /// broken helpers only.
    @Test func aHelperThatHangsFailsOrIsMissingIsNamed() async throws {
        let s = try await Self.setup()
        defer { s.lab.stop() }
        let bin = s.lab.home.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let sleeperPID = s.lab.home.file("sleeper.pid")
        let scripts = [
            "hang": "#!/bin/sh\nsleep 600 &\necho $! > \(sleeperPID)\nwait\n",
            "broken": "#!/bin/sh\necho 'the keychain is locked' >&2\nexit 4\n",
        ]
        for (name, text) in scripts {
            let path = "\(bin)/docker-credential-\(name)"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        }
        let path = "\(bin):" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let config = s.lab.home.file(".docker/config.json")

        try Self.write(#"{"credsStore": "hang"}"#, to: config)
        let started = ContinuousClock.now
        let hung = try Shell.runCapturing(
            ["faketime", "-f", "+0 x20", try ThreeTofuCLI.executable] + (try s.arguments()),
            env: s.processEnvironment.merging(["PATH": path]) { _, new in new }, timeout: .seconds(60))
        let elapsed = ContinuousClock.now - started
        #expect(hung.status == 3, "\(hung.stderr)")
        #expect(hung.stderr.contains("docker-credential-hang (credsStore in \(config)) did not answer for \(s.host) within 30 s"), "\(hung.stderr)")
        #expect(elapsed < .seconds(12), "a 30 s bound at ×20 (1.5 s) took \(elapsed)")
        let sleeper = Int32((try String(contentsOfFile: sleeperPID, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(sleeper > 0)
        let state = (try? String(contentsOfFile: "/proc/\(sleeper)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
        #expect(state == nil || state == "Z", "what the hung helper started is still running (state \(state ?? "?"))")
        if state != nil { kill(sleeper, SIGKILL) }

        try Self.write(#"{"credHelpers": {"\#(s.host)": "broken"}}"#, to: config)
        let broken = try s.resolve(environment: ["PATH": path])
        #expect(broken.status == 3, "\(broken.stderr)")
        #expect(broken.stderr.contains("docker-credential-broken (credHelpers in \(config)) failed for \(s.host) (exit status 4: the keychain is locked)"), "\(broken.stderr)")

        try Self.write(#"{"credsStore": "not-installed"}"#, to: config)
        let missing = try s.resolve(environment: ["PATH": path])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("docker-credential-not-installed (credsStore in \(config)) is not installed or not on PATH"), "\(missing.stderr)")
    }
}
