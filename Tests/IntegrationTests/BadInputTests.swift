import Foundation
import Testing
import TestSupport

/// Bad input gets a clear message, exit code 2, and nothing at --output.
@Suite("bad input", .serialized)
struct BadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var mentions: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        Case(arguments: ["pull", "alpine/UPPER:tag", "--output", "OUT"], mentions: ["alpine/UPPER"]),
        Case(arguments: ["pull", "alpine@md5:0123456789abcdef0123456789abcdef", "--output", "OUT"], mentions: ["md5"]),
        Case(arguments: ["pull", "alpine", "--output", "OUT", "--format", "zip"], mentions: ["unknown --format 'zip'", "docker-archive", "oci-archive"]),
        Case(arguments: ["pull", "alpine", "--output", "OUT", "--platform", "linux"], mentions: ["linux"]),
        Case(arguments: ["pull", "alpine"], mentions: ["--output"]),
        Case(arguments: ["frobnicate"], mentions: ["frobnicate"]),
        Case(arguments: ["pull", "alpine", "--output", "OUT", "--vantages", "/nonexistent/v.toml"], mentions: ["/nonexistent/v.toml"]),
        Case(arguments: ["pull", "alpine", "--output", "OUT", "--ca-cert", "/nonexistent/ca.pem"], mentions: ["/nonexistent/ca.pem"]),
        // An output that cannot be written is refused before any vantage is asked (no network
        // here: asking would end in unreachable vantages, exit 3), not after the download.
        Case(arguments: ["pull", "alpine", "--output", "/nonexistent-3tofu/out.tar"], mentions: ["directory /nonexistent-3tofu does not exist"]),
        Case(arguments: ["pull", "alpine", "--output", "/tmp"], mentions: ["/tmp is a directory", "--format oci"]),
        Case(arguments: ["pull", "alpine", "--format", "oci", "--output", "/etc/passwd"], mentions: ["/etc/passwd", "it is a file"]),
    ])
    func rejectedBeforeAnyNetwork(_ c: Case) throws {
        let home = try TemporaryDirectory(prefix: "home")
        let output = home.file("out.tar")
        let result = try ThreeTofuCLI.run(c.arguments.map { $0 == "OUT" ? output : $0 }, home: home.path)
        #expect(result.status == 2, "\(result.stderr)")
        for phrase in c.mentions {
            #expect(result.stderr.contains(phrase), "stderr lacks '\(phrase)': \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func anOCILayoutOutputThatIsASymbolicLinkIsRefusedBeforeAnyNetwork() throws {
        let home = try TemporaryDirectory(prefix: "home")
        let target = home.file("empty")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let link = home.file("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let result = try ThreeTofuCLI.run(["pull", "alpine", "--format", "oci", "--output", link], home: home.path)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("\(link) is a symbolic link"), "\(result.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target, "the link is left alone")
    }

    @Test func vantagesFileMistakesNameFileLineAndField() throws {
        let home = try TemporaryDirectory(prefix: "home")
        let vantages = home.file("v.toml")
        try "[[vantage]]\nname = \"a\"\nkind = \"local\"\n\n[[vantage]]\nname = \"b\"\nkind = \"carrier-pigeon\"\n".write(toFile: vantages, atomically: true, encoding: .utf8)
        let result = try ThreeTofuCLI.run(["pull", "alpine", "--output", home.file("o.tar"), "--vantages", vantages], home: home.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(vantages):7: field 'kind'"), "\(result.stderr)")
        #expect(result.stderr.contains("carrier-pigeon"))

        try "[[vantage]\nname = \"a\"\n".write(toFile: vantages, atomically: true, encoding: .utf8)
        let syntax = try ThreeTofuCLI.run(["pull", "alpine", "--output", home.file("o.tar"), "--vantages", vantages], home: home.path)
        #expect(syntax.status == 2)
        #expect(syntax.stderr.contains("\(vantages):1"), "\(syntax.stderr)")
    }

    @Test func platformMissingFromTheIndexListsTheOnesItHas() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [1_000], platforms: .multi)
        _ = try lab.push(layout, "multi/app", tag: "1")
        let output = lab.home.file("o.tar")
        let result = try lab.run(["pull", "\(lab.registry.host)/multi/app:1", "--platform", "linux/s390x", "--output", output, "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("linux/amd64"))
        #expect(result.stderr.contains("linux/arm64"))
        #expect(!result.stderr.contains("unknown/unknown"))
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// A "registry" that is really a web server: HTML where a manifest should be, and a manifest over the cap.
    @Test func htmlAndOversizedManifestsAreRefused() async throws {
        let root = try TemporaryDirectory(prefix: "web")
        try FileManager.default.createDirectory(atPath: root.file("v2/portal/manifests"), withIntermediateDirectories: true)
        try "<!DOCTYPE html><html><body>Please log in to the hotel Wi-Fi</body></html>".write(toFile: root.file("v2/portal/manifests/latest"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root.file("v2/huge/manifests"), withIntermediateDirectories: true)
        try Data(repeating: 0x20, count: 5 * 1024 * 1024).write(to: URL(fileURLWithPath: root.file("v2/huge/manifests/latest")))
        let web = try await FileServer(root: root.path)
        defer { web.stop() }
        let home = try TemporaryDirectory(prefix: "home")
        let vantages = home.file("v.toml")
        try "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[[vantage]]\nname = \"b\"\nkind = \"local\"\n[[vantage]]\nname = \"c\"\nkind = \"local\"\n"
            .write(toFile: vantages, atomically: true, encoding: .utf8)
        let host = "127.0.0.1:\(web.port)"
        let output = home.file("o.tar")

        let html = try ThreeTofuCLI.run(["pull", "\(host)/portal", "--output", output, "--vantages", vantages, "--insecure-registry", host], home: home.path)
        #expect(html.status == 2, "\(html.stderr)")
        #expect(html.stderr.contains("hotel Wi-Fi") || html.stderr.lowercased().contains("html"), "\(html.stderr)")

        let huge = try ThreeTofuCLI.run(["pull", "\(host)/huge", "--output", output, "--vantages", vantages, "--insecure-registry", host], home: home.path)
        #expect(huge.status == 2, "\(huge.stderr)")
        #expect(huge.stderr.contains("4 MiB"), "\(huge.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func aCredentialHelperThatIsNotInstalledIsNamed() async throws {
        let lab = try await Lab([.tls(try TestCA()), .htpasswd(user: "alice", password: "pa55-w0rd")])
        let layout = try lab.makeImage(layers: [1_000])
        _ = try lab.push(layout, "private/app", tag: "1")
        // What `docker login` leaves when a credential helper keeps the password.
        try #"{"auths": {"\#(lab.registry.host)": {}}, "credsStore": "desktop"}"#
            .write(toFile: lab.home.file(".docker/config.json"), atomically: true, encoding: .utf8)
        let output = lab.home.file("o.tar")
        let result = try lab.run(["pull", "\(lab.registry.host)/private/app:1", "--output", output, "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("docker-credential-desktop (credsStore in \(lab.home.file(".docker/config.json"))) is not installed"), "\(result.stderr)")
        #expect(result.stderr.contains("--creds USER"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func tooFewVantagesForTheDefaultPolicyExplainsWhatToDo() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [1_000])
        _ = try lab.push(layout, "one/app", tag: "1")
        let output = lab.home.file("o.tar")
        // No vantages file at all: this machine alone cannot satisfy "strict".
        let result = try lab.run(["pull", "\(lab.registry.host)/one/app:1", "--output", output] + lab.registryOptions())
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("needs 3"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }
}
