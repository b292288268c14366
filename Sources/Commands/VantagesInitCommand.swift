import ArgumentParser
import Configuration
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `3tofu vantages init [FILE]`: write a commented starter vantages file, never over an existing one.
struct VantagesInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented starter vantages file (this machine, a Tor route, an SSH host to fill in).",
        discussion: HelpText.wrap("""
            FILE defaults to $THREETOFU_VANTAGES, else ~/.config/3tofu/vantages.toml (its directory is \
            created). An existing file is never replaced. Edit the file, then test every route with \
            `3tofu vantages check`.

            EXAMPLES
              3tofu vantages init
              3tofu vantages check
            """)
    )

    @Argument(help: ArgumentHelp("Where to write the file.", valueName: "file"))
    var file: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let path = file.map { VantagesFile.expandTilde($0, environment: environment) }
            ?? environment["THREETOFU_VANTAGES"].flatMap { $0.isEmpty ? nil : VantagesFile.expandTilde($0, environment: environment) }
            ?? VantagesFile.defaultPath(environment: environment)
        try Self.write(StarterVantages.text, to: path)
        Terminal.out("wrote \(path): this machine and a Tor route (socks5h://127.0.0.1:9050); an SSH host is there to fill in.")
        Terminal.out("next: edit it, then run `3tofu vantages check\(file == nil ? "" : " --vantages \(path)")`.")
    }

    /// Creates `path` (and its directory, mode 0700) with `text`; refuses (exit 2) when anything is
    /// there already: O_EXCL, so even a file that appears meanwhile is not replaced.
    static func write(_ text: String, to path: String) throws {
        try ParentDirectory.ensure(for: path, what: "the vantages file")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            let number = errno
            if number == EEXIST {
                throw ToolFailure(.badInput, "\(path) already exists; it was left as it is. Edit it, remove it first, or give another FILE (`3tofu vantages init FILE`).")
            }
            throw ToolFailure(.badInput, "cannot create \(path): \(String(cString: strerror(number))); check that its directory is writable, or give another FILE")
        }
        let data = Data(text.utf8)
        #if canImport(Glibc)
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        #else
        let written = data.withUnsafeBytes { Darwin.write(fd, $0.baseAddress, $0.count) }
        #endif
        let failed = written != data.count || fsync(fd) != 0
        let reason = failed ? String(cString: strerror(errno)) : nil
        close(fd)
        if let reason {
            unlink(path)
            throw ToolFailure(.notMet, "cannot write \(path): \(reason)")
        }
    }
}

/// The starter vantages file: two working routes and an SSH host as a commented template.
enum StarterVantages {
    static let text = """
        # 3tofu vantages file, written by `3tofu vantages init`.
        # Each [[vantage]] is an independent look at what you download: another network path, DNS
        # and CA store. The default policy ("strict") needs three vantages, all answering and agreeing:
        # fill in the SSH host below (or add a proxy) before pulling. Test them: `3tofu vantages check`.

        # This machine, direct: its own DNS, its own route, the system's CA store.
        [[vantage]]
        name = "local"
        kind = "local"

        # Tor: another network path and exit; names are resolved at the exit (socks5h).
        # Needs tor running here (apt install tor; it listens on 127.0.0.1:9050).
        [[vantage]]
        name = "tor"
        kind = "proxy"
        proxy = "socks5h://127.0.0.1:9050"

        # A host on another network (a VPS, a colleague's machine, a CI runner) that fetches with its
        # own route, DNS and CA store; it needs only sh, curl and sha256sum. Its host key must already
        # be in known_hosts: check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub),
        # then `ssh-keyscan -p 22 HOST >> ~/.ssh/known_hosts`. Remove the leading "# " and fill in:
        # [[vantage]]
        # name = "vps"
        # kind = "ssh"
        # host = "203.0.113.7"
        # port = 22
        # user = "verify"
        # identity = "~/.ssh/id_ed25519"      # absent: ssh-agent
        # known_hosts = "~/.ssh/known_hosts"
        # agent = "curl"                      # or "3tofu" when 3tofu is installed there
        # ca_cert = "/path/to/extra-ca.pem"   # extra CA for this vantage only

        """
}
