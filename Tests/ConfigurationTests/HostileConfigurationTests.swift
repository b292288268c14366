import Configuration
import Foundation
import Testing

/// Vantages and policy files with mistakes the table tests elsewhere do not cover, and garbage:
/// every one is refused with a `ConfigurationError` that names the file, never a crash.
@Suite struct HostileConfigurationTests {
    static let local = "[[vantage]]\nname = \"a\"\nkind = \"local\"\n"

    @Test(arguments: [
        "[[vantage]]\nname = \"s\"\nkind = \"ssh\"\n",
        "[[vantage]]\nname = \"s\"\nkind = \"ssh\"\nhost = \"\"\n",
        "[[vantage]]\nname = \"s\"\nkind = \"ssh\"\nhost = \"h\"\nport = 0\n",
        "[[vantage]]\nname = \"s\"\nkind = \"ssh\"\nhost = \"h\"\nport = \"22\"\n",
        "[[vantage]]\nname = \"s\"\nkind = \"ssh\"\nhost = \"h\"\nport = 99999999999999999999\n",
        "[[vantage]]\nname = \"p\"\nkind = \"proxy\"\nproxy = \"\"\n",
        "[[vantage]]\nname = \"p\"\nkind = \"proxy\"\nproxy = \"http://\"\n",
        "[[vantage]]\nname = \"p\"\nkind = \"proxy\"\nproxy = \"socks4://127.0.0.1:1080\"\n",
        "[[vantage]]\nname = \"p\"\nkind = \"proxy\"\nproxy = \"http://a b:1\"\n",
        "[[vantage]]\nname = \"p\"\nkind = \"proxy\"\nproxy = \"http://127.0.0.1:1\\nX: y\"\n",
        "[[vantage]]\nname = \"p\"\nkind = \"proxy\"\nproxy = [\"http://127.0.0.1:1\"]\n",
        "[[vantage]]\nname = \"\"\nkind = \"local\"\n",
        "[[vantage]]\nname = \"a\\u0000b\"\nkind = \"local\"\n",
        "[[vantage]]\nname = \"a\"\nkind = \"LOCAL\"\n",
        "[[vantage]]\nname = \"a\"\nkind = \"local\"\nname = \"b\"\n",
        "vantage = 3\n",
        "vantage = [1, 2]\n",
        "[vantage]\nname = \"a\"\nkind = \"local\"\n",
        "[[vantage]]\nname = \"a\"\nkind = \"local\"\ndoh = \"https://\"\n",
        "[[vantage]]\nname = \"a\"\nkind = \"local\"\nca_cert = 5\n",
        "[[vantage]]\nname = \"a\"\nkind = { x = 1 }\n",
        "\u{FEFF}[[vantage]]\nname = \"a\"\nkind = \"nope\"\n",
        "\0\0\0\0",
        String(repeating: "[", count: 100_000),
        "[[[", "[.", "[[ .", "[=", "[[#", "[{", "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[[ [\n",
        "a = " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
        "a = " + String(repeating: "{b = ", count: 50_000) + "1" + String(repeating: "}", count: 50_000),
        String(repeating: local.replacingOccurrences(of: "\"a\"", with: "\"dup\""), count: 3),
    ])
    func brokenVantagesFilesAreRefused(_ text: String) {
        do {
            let file = try VantagesFile.parse(text: text, path: "/v.toml")
            Issue.record("accepted \(text.prefix(80)): \(file.vantages.map(\.name))")
        } catch let error as ConfigurationError {
            #expect(error.description.hasPrefix("/v.toml"), "\(error)")
            #expect(error.description.count < 2_000, "the message repeats the input: \(error.description.prefix(200))")
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
        }
    }

    static let policy = """
        name = "mine"
        description = "d"
        min_agreeing = 2
        max_unavailable = 0
        blob_verification = "source"
        require_route_kinds = []
        allow_insecure_registries = false

        """

    @Test(arguments: [
        ("min_agreeing = 2", "min_agreeing = 99999999999999999999"),
        ("min_agreeing = 2", "min_agreeing = 2.5"),
        ("min_agreeing = 2", "min_agreeing = 2\nmin_agreeing = 3"),
        ("min_agreeing = 2", "min_agreeing = true"),
        ("min_agreeing = 2", "min_agreeing = 1e3"),
        ("max_unavailable = 0", "max_unavailable = 9223372036854775807"),
        ("require_route_kinds = []", "require_route_kinds = [\"ssh\", 3]"),
        ("require_route_kinds = []", "require_route_kinds = [[\"ssh\"]]"),
        ("require_route_kinds = []", "require_route_kinds = { ssh = true }"),
        ("name = \"mine\"", "name = \"\""),
        ("name = \"mine\"", "name = [\"mine\"]"),
        ("blob_verification = \"source\"", "blob_verification = \"SOURCE\""),
        ("blob_verification = \"source\"", ""),
        ("description = \"d\"", "[description]\ntext = \"d\""),
        ("", "\0"),
        ("", "[[[\n"),
        ("", "[.x]\n"),
    ])
    func brokenPoliciesAreRefused(_ edit: (String, String)) {
        let text = edit.0.isEmpty ? Self.policy + edit.1 : Self.policy.replacingOccurrences(of: edit.0, with: edit.1)
        do {
            let policy = try PolicyFile.parse(text: text, path: "/p.toml")
            Issue.record("accepted \(edit.1): \(policy)")
        } catch let error as ConfigurationError {
            #expect(error.description.hasPrefix("/p.toml"), "\(error)")
        } catch {
            Issue.record("unexpected error type \(type(of: error)): \(error)")
        }
    }
}
