import Configuration
import Testing

@Suite struct VantagesFileTests {
    /// The example vantages file of DESIGN.md.
    static let designExample = """
        [[vantage]]
        name = "home"
        kind = "local"

        [[vantage]]
        name = "tor"
        kind = "proxy"
        proxy = "socks5h://127.0.0.1:9050"

        [[vantage]]
        name = "vps-fra"
        kind = "ssh"
        host = "203.0.113.7"
        port = 2222
        user = "verify"
        identity = "~/.ssh/id_ed25519"
        known_hosts = "~/.ssh/known_hosts"
        agent = "3tofu"
        """

    @Test func parsesTheDesignExample() throws {
        let text = Self.designExample
        let file = try VantagesFile.parse(text: text, path: "v.toml", environment: ["HOME": "/home/op"])
        #expect(file.vantages.map(\.name) == ["home", "tor", "vps-fra"])
        #expect(file.vantages.map(\.kind) == [.local, .proxy, .ssh])
        #expect(file.vantages[1].proxy == "socks5h://127.0.0.1:9050")
        let ssh = file.vantages[2]
        #expect(ssh.host == "203.0.113.7")
        #expect(ssh.port == 2222)
        #expect(ssh.user == "verify")
        #expect(ssh.identity == "/home/op/.ssh/id_ed25519")
        #expect(ssh.knownHosts == "/home/op/.ssh/known_hosts")
        #expect(ssh.agent == .threeTofu)
    }

    @Test func sshDefaults() throws {
        let file = try VantagesFile.parse(text: "[[vantage]]\nname = \"v\"\nkind = \"ssh\"\nhost = \"h\"\n", path: "v.toml")
        #expect(file.vantages[0].port == 22)
        #expect(file.vantages[0].agent == .curl)
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var text: String
        var line: Int?
        var field: String?
        var mentions: String
        var testDescription: String { mentions }
    }

    @Test(arguments: [
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"tor\"\n", line: 3, field: "kind", mentions: "unknown kind 'tor'"),
        BadCase(text: "[[vantage]]\nname = \"a\"\n", line: 1, field: "kind", mentions: "needs a kind"),
        BadCase(text: "[[vantage]]\nkind = \"local\"\n", line: 1, field: "name", mentions: "non-empty name"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"local\"\n\n[[vantage]]\nname = \"b\"\nkind = \"proxy\"\n", line: 5, field: "proxy", mentions: "needs proxy"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"proxy\"\nproxy = \"ftp://x:1\"\n", line: 4, field: "proxy", mentions: "not a proxy URL"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"local\"\ncolour = \"red\"\n", line: 4, field: "colour", mentions: "unknown field"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"ssh\"\nhost = \"h\"\nport = 70000\n", line: 5, field: "port", mentions: "1 to 65535"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"ssh\"\nhost = \"h\"\nagent = \"python\"\n", line: 5, field: "agent", mentions: "unknown agent"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"local\"\nproxy = \"http://p:1\"\n", line: 4, field: "proxy", mentions: "does not apply"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[[vantage]]\nname = \"a\"\nkind = \"local\"\n", line: 5, field: "name", mentions: "already used"),
        BadCase(text: "[[vantage]]\nname = 3\nkind = \"local\"\n", line: 2, field: "name", mentions: "must be a string"),
        BadCase(text: "[[vantage]]\nname = \"a b\"\nkind = \"local\"\n", line: 2, field: "name", mentions: "may contain only"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"local\"\ndoh = \"http://dns\"\n", line: 4, field: "doh", mentions: "https://"),
        BadCase(text: "name = \"x\"\n", line: 1, field: "name", mentions: "unknown top-level"),
        BadCase(text: "", line: nil, field: nil, mentions: "no [[vantage]] tables"),
        BadCase(text: "[[vantage]]\nname = \"a\"\nkind = \"local\n", line: 3, field: nil, mentions: "TOML syntax error"),
    ])
    func rejectsMistakesWithFileLineAndField(_ bad: BadCase) {
        do {
            _ = try VantagesFile.parse(text: bad.text, path: "/etc/v.toml")
            Issue.record("accepted a bad file: \(bad.text)")
        } catch let error as ConfigurationError {
            #expect(error.file == "/etc/v.toml")
            #expect(error.line == bad.line)
            #expect(error.field == bad.field)
            #expect(error.description.contains(bad.mentions), "\(error.description)")
            #expect(error.description.hasPrefix("/etc/v.toml"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func locateFollowsTheDocumentedOrder() throws {
        #expect(VantagesFile.locate(explicit: "~/v.toml", environment: ["HOME": "/h", "THREETOFU_VANTAGES": "/e.toml"]) == "/h/v.toml")
        #expect(VantagesFile.locate(explicit: nil, environment: ["HOME": "/h", "THREETOFU_VANTAGES": "/e.toml"]) == "/e.toml")
        #expect(VantagesFile.locate(explicit: nil, environment: ["HOME": "/nonexistent-home-3tofu"]) == nil)
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConfigurationError.self) {
            try VantagesFile.load(path: "/nonexistent/vantages.toml")
        }
    }
}
