import ArgumentParser
import Commands
import Foundation
import Testing
import TestSupport

/// `make install` and `make deb` as a user runs them, and the installed binary run where no Swift
/// toolchain is: a mount namespace (`unshare -m`) with an empty tmpfs over the toolchain that built
/// it, as on the far side of an air gap. The binary is the one `make static INSTALL_CONFIG=debug`
/// builds (`make test` builds it before the suites; here it is at most brought up to date).
@Suite("install: make install, make deb, the binary without the toolchain", .serialized)
struct InstallTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs make in the repository with the suite's configuration; a failure shows make's output.
    static func make(_ arguments: [String]) throws {
        let result = try Shell.runCapturing(["make", "--no-print-directory", "-C", root, "INSTALL_CONFIG=debug"] + arguments, timeout: .seconds(3600))
        guard result.status == 0 else {
            throw FixtureError("make \(arguments.joined(separator: " ")) exited \(result.status): \(result.stdout.suffix(3000)) \(result.stderr.suffix(3000))")
        }
    }

    /// The toolchain that built the tests: the directory above `usr/bin/swift`.
    static func toolchainDirectory() throws -> String {
        let bin = URL(fileURLWithPath: try Shell.resolveExecutable("swift")).deletingLastPathComponent().resolvingSymlinksInPath().path
        guard bin.hasSuffix("/usr/bin") else { throw FixtureError("swift is in \(bin), not in a toolchain's usr/bin") }
        return String(bin.dropLast("/usr/bin".count))
    }

    /// Runs `binary arguments` in a new mount namespace where `toolchain` is an empty tmpfs. The
    /// script refuses to run the binary when the toolchain's swift is still visible, so a namespace
    /// that did not take cannot pass for one that did.
    static func runWithoutToolchain(_ binary: String, _ arguments: [String], home: String) throws -> ThreeTofuCLI.Result {
        let toolchain = try toolchainDirectory()
        let script = """
            set -e
            toolchain="$1"; shift
            mount -t tmpfs -o size=1m,mode=0755 3tofu-no-toolchain "$toolchain"
            if [ -e "$toolchain/usr/bin/swift" ]; then echo "the toolchain is still visible at $toolchain" >&2; exit 97; fi
            exec "$@"
            """
        // As root (CI) a mount namespace is enough; otherwise a user namespace maps us to root in it.
        let unshare = geteuid() == 0 ? ["unshare", "--mount", "--propagation", "private"] : ["unshare", "--map-root-user", "--mount"]
        let output = try Shell.runCapturing(
            unshare + ["--", "/bin/sh", "-c", script, "hide-toolchain", toolchain, binary] + arguments,
            env: ["HOME": home, "THREETOFU_CACHE": home + "/cache"], timeout: .seconds(300))
        return ThreeTofuCLI.Result(status: output.status, stdout: output.stdout, stderr: output.stderr, stdoutData: output.stdoutData)
    }

    static func headCommit() throws -> String {
        try Shell.check(["git", "-C", root, "rev-parse", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The libraries the ELF file needs and its RUNPATH/RPATH entries, as readelf (binutils) reads them.
    static func dynamicSection(_ binary: String) throws -> (needed: [String], paths: [String]) {
        let text = try Shell.check(["readelf", "--dynamic", "--wide", binary])
        func values(_ tag: String) -> [String] {
            text.split(separator: "\n").filter { $0.contains("(\(tag))") }.compactMap { line in
                guard let open = line.lastIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
                return String(line[line.index(after: open)..<close])
            }
        }
        return (values("NEEDED"), values("RUNPATH") + values("RPATH"))
    }

    /// The subcommands, and whether --help lists them (completions leave the hidden ones out).
    static var subcommands: [(name: String, listed: Bool)] {
        ThreeTofu.configuration.subcommands.map { ($0.configuration.commandName ?? "", $0.configuration.shouldDisplay) }
    }

    @Test func installedBinaryPullsAndVerifiesWithTheToolchainHidden() async throws {
        let destination = try TemporaryDirectory(prefix: "destdir")
        try Self.make(["install", "DESTDIR=\(destination.path)", "PREFIX=/usr/local"])
        let prefix = destination.file("usr/local")
        let binary = prefix + "/bin/3tofu"
        #expect(FileManager.default.isExecutableFile(atPath: binary))

        // Only Debian's runtime libraries remain: no Swift runtime or Foundation, no path into a toolchain.
        let dynamic = try Self.dynamicSection(binary)
        #expect(dynamic.needed.contains("libcurl.so.4") && dynamic.needed.contains("libssh2.so.1"), "\(dynamic.needed)")
        let swiftLibraries = dynamic.needed.filter { $0.lowercased().contains("swift") || $0.contains("Foundation") || $0.contains("dispatch") || $0.contains("BlocksRuntime") }
        #expect(swiftLibraries.isEmpty, "still linked dynamically: \(swiftLibraries)")
        // SwiftPM links with RUNPATH $ORIGIN; nothing may point into a toolchain.
        #expect(dynamic.paths.allSatisfy { $0 == "$ORIGIN" }, "RUNPATH/RPATH: \(dynamic.paths)")

        // Completions and the man page, generated from the same definitions as --help.
        let bash = try String(contentsOfFile: prefix + "/share/bash-completion/completions/3tofu", encoding: .utf8)
        let zsh = try String(contentsOfFile: prefix + "/share/zsh/site-functions/_3tofu", encoding: .utf8)
        let fish = try String(contentsOfFile: prefix + "/share/fish/vendor_completions.d/3tofu.fish", encoding: .utf8)
        let manual = try String(contentsOfFile: prefix + "/share/man/man1/3tofu.1", encoding: .utf8)
        #expect(bash.contains("\ncomplete -o filenames -F _3tofu 3tofu\n"), "\(bash.suffix(400))")
        #expect(zsh.hasPrefix("#compdef 3tofu"))
        #expect(fish.contains("\ncomplete -c '3tofu' "), "\(fish.prefix(400))")
        #expect(manual.contains(".Dt 3TOFU 1"), "\(manual.prefix(400))")
        #expect(!manual.contains("\n\n"), "blank lines in mdoc source (man warns about each)")
        for (name, listed) in Self.subcommands {
            #expect(!listed || (bash.contains(name) && zsh.contains(name) && fish.contains(name)), "\(name) missing from a completion script")
            #expect(manual.contains("\n.It Em \(name)\n"), "the man page has no entry for \(name)")
        }
        // The man page says what --help says (one source): the pull command's abstract appears in both.
        let pullCommand = try #require(ThreeTofu.configuration.subcommands.first { $0.configuration.commandName == "pull" })
        let pullAbstract = try #require(pullCommand.configuration.abstract.split(separator: ".").first.map(String.init))
        #expect(manual.contains(pullAbstract.prefix(30)), "the pull abstract is missing from the man page")
        #expect(FileManager.default.fileExists(atPath: prefix + "/share/doc/3tofu/README.md"))
        #expect(FileManager.default.fileExists(atPath: prefix + "/share/doc/3tofu/policies/strict.toml"))

        let lab = try await Lab()
        // --version: the release version and the commit this tree is at, without a toolchain.
        let version = try Self.runWithoutToolchain(binary, ["--version"], home: lab.home.path)
        #expect(version.status == 0, "\(version.stderr)")
        #expect(version.stdout.hasPrefix(ThreeTofu.version + " (commit " + (try Self.headCommit())), "\(version.stdout)")

        // A verified pull from a real registry through three routes, and report verify on its output.
        let layout = try lab.makeImage(layers: [40_000, 3_000])
        _ = try lab.push(layout, "install/app", tag: "1")
        let output = lab.home.file("app.tar")
        let reportPath = lab.home.file("report.json")
        let pull = try Self.runWithoutToolchain(
            binary, ["pull", "\(lab.registry.host)/install/app:1", "--output", output, "--report", reportPath, "--vantages", try lab.vantagesFile()] + lab.registryOptions(),
            home: lab.home.path)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.contains(layout.topDigest), "\(pull.stdout)")
        let verify = try Self.runWithoutToolchain(binary, ["report", "verify", reportPath, "--artifact", output], home: lab.home.path)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("VERIFIED"), "\(verify.stdout)")
    }

    @Test func debHoldsTheInstallAndDependsOnDebianLibraries() async throws {
        let out = try TemporaryDirectory(prefix: "deb")
        try Self.make(["deb", "DEB_DIR=\(out.path)", "DEB_COMPRESSION=gzip"])
        let architecture = try Shell.check(["dpkg", "--print-architecture"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let deb = out.file("3tofu_\(ThreeTofu.version)_\(architecture).deb")
        #expect(FileManager.default.fileExists(atPath: deb), "\((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? [])")

        let fields = try Shell.check(["dpkg-deb", "--field", deb, "Package", "Version", "Architecture", "Depends"])
        #expect(fields.contains("Package: 3tofu\n") && fields.contains("Version: \(ThreeTofu.version)\n") && fields.contains("Architecture: \(architecture)\n"), "\(fields)")
        let depends = try #require(fields.split(separator: "\n").first { $0.hasPrefix("Depends: ") }).dropFirst("Depends: ".count)
        let packages = Set(depends.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? "" })
        #expect(packages.isSuperset(of: ["libcurl4", "libssh2-1", "libc6"]), "Depends: \(depends)")
        #expect(!depends.lowercased().contains("swift"), "Depends: \(depends)")
        // Each dependency is the Debian package that holds a library the binary needs.
        let extracted = try TemporaryDirectory(prefix: "deb-root")
        try Shell.check(["dpkg-deb", "--extract", deb, extracted.path])
        for library in try Self.dynamicSection(extracted.file("usr/bin/3tofu")).needed {
            let owner = try Shell.check(["dpkg-query", "--search", "*/\(library)"]).split(separator: ":").first.map(String.init) ?? ""
            #expect(packages.contains(owner), "\(library) comes from \(owner), which Depends does not name: \(depends)")
        }

        let listing = try Shell.check(["dpkg-deb", "--contents", deb])
        for path in [
            "./usr/bin/3tofu", "./usr/share/man/man1/3tofu.1.gz", "./usr/share/bash-completion/completions/3tofu",
            "./usr/share/zsh/vendor-completions/_3tofu", "./usr/share/fish/vendor_completions.d/3tofu.fish",
            "./usr/share/doc/3tofu/README.md", "./usr/share/doc/3tofu/policies/strict.toml",
        ] {
            #expect(listing.contains(" \(path)\n"), "\(path) is not in the package")
        }
        #expect(!listing.split(separator: "\n").contains { !$0.contains(" root/root ") }, "files not owned by root:\n\(listing)")

        // The packaged binary runs without the toolchain, too.
        let home = try TemporaryDirectory(prefix: "deb-home")
        let version = try Self.runWithoutToolchain(extracted.file("usr/bin/3tofu"), ["--version"], home: home.path)
        #expect(version.status == 0 && version.stdout.hasPrefix(ThreeTofu.version + " (commit "), "\(version.stdout)\(version.stderr)")
    }
}

/// `3tofu --version` of the plain `swift build` binary the other suites run: the prebuild command
/// ran in that build too, so it names the commit the tree is at, and says when tracked files differ.
@Suite("version: the commit a plain swift build was made from")
struct BuildVersionTests {
    @Test func plainBuildNamesTheCommitTheTreeIsAt() throws {
        let home = try TemporaryDirectory(prefix: "version")
        let result = try ThreeTofuCLI.run(["--version"], home: home.path)
        #expect(result.status == 0, "\(result.stderr)")
        let modified = !(try Shell.check(["git", "-C", InstallTests.root, "status", "--porcelain", "--untracked-files=no"])).isEmpty
        let expected = "\(ThreeTofu.version) (commit \(try InstallTests.headCommit())\(modified ? ", with uncommitted changes" : ""))\n"
        #expect(result.stdout == expected)
    }
}
