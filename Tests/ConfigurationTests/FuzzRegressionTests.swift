import Agreement
import Configuration
import Foundation
import Testing

/// Inputs the `config` fuzz target (Fuzz/harness/config.swift) found. The crashing ones abort the
/// process inside toml++ (failed assertions in its key and value parsers), so each runs in an exit test: the
/// child parses the text as a vantages file and as a policy and must exit normally with a
/// `ConfigurationError` for both. Their bytes are also kept in Fuzz/regressions/config/.
@Suite struct FuzzRegressionTests {
    /// Exit codes of the child: 0 refused properly; these otherwise (an abort is a signal).
    static let accepted: Int32 = 2
    static let wrongErrorType: Int32 = 3
    static let fileNotNamed: Int32 = 4

    /// Parses `text` both ways and exits with a code saying what went wrong, if anything.
    static func refuseBothWays(_ text: String) -> Int32 {
        for path in ["/fuzz/vantages.toml", "/fuzz/policy.toml"] {
            do {
                if path.hasSuffix("vantages.toml") {
                    _ = try VantagesFile.parse(text: text, path: path)
                } else {
                    _ = try PolicyFile.parse(text: text, path: path)
                }
                return accepted
            } catch let error as ConfigurationError {
                if !error.description.hasPrefix(path) { return fileNotNamed }
            } catch {
                return wrongErrorType
            }
        }
        return 0
    }

    @Test(arguments: [
        // A table header whose first character is not ASCII: toml++ asserts in parse_key.
        "[\u{E9}]\n",
        "[[ \u{20AC}]]\n",
        "[\u{FFFD}\u{FFFD}\u{FFFD}vantage]]\nname = \"s\"\nkind = \"ssh\"\n",
        // A bare carriage return right after '[' (at the very end, or inside the line).
        "[\r",
        "[\ra]\nx = 1\n",
        "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[\r",
        // A byte order mark, which toml++ skips, before a header that starts with a bad character.
        "\u{FEFF}[`vantage]]\nname = \"a\"\nkind = \"local\"\n",
        "\u{FEFF}[[.]]\n",
        // A header that ends with its line.
        "[[\nname = \"a\"\n",
        "[\n",
        "[[vantage]]\nname = \"a\"\nkind = \"local\"\n[[  \r\n",
        // An array element that is '}' or a Unicode line separator: toml++ asserts in parse_value.
        "a = [}]\n",
        "a = [[[[[[[[[[[[[}]]]]]]]]]]]]]]]]]\n",
        "a = [1,\n# c\n}]\n",
        "a = [\u{2028}]\n",
        "a = [1, \u{2029}]\n",
        "a = [\u{85}]\n",
        // A date and a 'T' without the time: toml++ asserts in parse_time.
        "a = 1979-05-27t:\n",
        "[[vantage]]\nname = 1979-05-27T\\u07:32:00-08:0\n",
        "x = { a = [1979-05-27T:00] }\n",
        // A date, a space and one digit: toml++ asserts while it looks for the time.
        "a = 1979-05-27 0 \n",
        "a = [1979-05-27 0]\n",
        "a = 1979-04-r7 1\t\n",
    ])
    func inputsTheTOMLParserAssertsOnAreRefused(_ text: String) async {
        await #expect(processExitsWith: .success, "\(text.debugDescription)") { [text] in
            exit(FuzzRegressionTests.refuseBothWays(text))
        }
    }

    /// Every file in Fuzz/regressions/config/, read as the harness reads it (invalid UTF-8 replaced).
    static func regressionFiles() -> [String] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/regressions/config")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0).path }
    }

    @Test(arguments: regressionFiles())
    func savedFuzzInputsNeverCrashTheParsers(_ file: String) async throws {
        let data = try #require(FileManager.default.contents(atPath: file))
        let text = String(decoding: data, as: UTF8.self)
        // A saved input may be a valid file (the CRLF one is); it must only not crash.
        await #expect(processExitsWith: .success, "\(file)") { [text = text as String] in
            let code = FuzzRegressionTests.refuseBothWays(text)
            exit(code == FuzzRegressionTests.accepted ? 0 : code)
        }
    }

    static func crlf(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: "\r\n") }

    /// Swift splits "a\r\nb" on "\n" into one piece ("\r\n" is one Character), so a line-by-line
    /// check that splits Characters sees a CRLF file as one line holding LF control characters.
    @Test func aVantagesFileWithCRLFLineEndsReadsLikeOneWithLF() throws {
        let lf = try VantagesFile.parse(text: VantagesFileTests.designExample, path: "v.toml", environment: ["HOME": "/home/op"])
        let crlf = try VantagesFile.parse(text: Self.crlf(VantagesFileTests.designExample), path: "v.toml", environment: ["HOME": "/home/op"])
        #expect(crlf == lf)
        #expect(crlf.vantages.map(\.name) == ["home", "tor", "vps-fra"])
    }

    @Test func errorsInACRLFFilePointAtTheSameLineAsInAnLFFile() {
        let text = "[[vantage]]\nname = \"a\"\nkind = \"local\"\n\n[[vantage]]\nname = \"b\"\nkind = \"tor\"\n"
        for variant in [text, Self.crlf(text)] {
            do {
                _ = try VantagesFile.parse(text: variant, path: "v.toml")
                Issue.record("accepted kind = \"tor\"")
            } catch let error as ConfigurationError {
                #expect(error.line == 7, "\(variant.debugDescription): \(error)")
                #expect(error.field == "kind", "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func aPolicyWithCRLFLineEndsReadsLikeOneWithLF() throws {
        let text = PolicyFileTests.valid + "\n"
        let lf = try PolicyFile.parse(text: text, path: "p.toml")
        var crlf = try PolicyFile.parse(text: Self.crlf(text), path: "p.toml")
        #expect(crlf.sha256 != lf.sha256, "the hash is over the exact text")
        crlf.sha256 = lf.sha256
        #expect(crlf == lf)
    }

    /// The checks that keep toml++ from asserting look past strings and comments, and at headers only
    /// outside values: a valid file whose strings hold such text, or with arrays over several lines, reads.
    @Test func validFilesWithLookalikesInStringsStillRead() throws {
        let text = """
            \u{FEFF}name = "mine"
            description = \"""
            [é and [[. are not headers here; nor is a = [} or 1979-05-27T: a value
            \"""
            min_agreeing = 2 # [}
            max_unavailable = 0
            blob_verification = 'source'
            require_route_kinds = [
              # a comment, then a line break
              "ssh",
              'proxy', # trailing comma next
            ]
            allow_insecure_registries = false

            """
        for variant in [text, Self.crlf(text)] {
            let policy = try PolicyFile.parse(text: variant, path: "p.toml")
            #expect(policy.requireRouteKinds == ["ssh", "proxy"])
            #expect(policy.description.contains("[é and [[."))
        }
    }

    /// An escaped NUL is found as bytes inside basic strings only: a combining mark after it (one
    /// Character with the escape's last digit) does not hide it, and the same six characters in a
    /// comment, a literal string or after an escaped backslash are not one.
    @Test func escapedNULsAreFoundOnlyWhereTheyAreEscapes() throws {
        for (hidden, line) in [
            ("name = \"ho\\u0000\u{301}me\"", 2), ("name = \"\\U00000000\u{301}\"", 2), ("\"k\\u0000\" = 1", 2),
            ("name = \"\"\"\na\\u0000\"\"\"", 3),
        ] {
            let text = "[[vantage]]\n\(hidden)\nkind = \"local\"\n"
            do {
                _ = try VantagesFile.parse(text: text, path: "v.toml")
                Issue.record("accepted \(text.debugDescription)")
            } catch let error as ConfigurationError {
                #expect(error.description.contains("escaped NUL"), "\(error)")
                #expect(error.line == line, "\(error)")
            }
        }
        // Not escapes: each policy reads, its description holding the six characters as written.
        for (description, expected) in [
            ("'C:\\u0000dir' # never put \\u0000 in a name", "C:\\u0000dir"), ("\'\'\'\nC:\\u0000\'\'\'", "C:\\u0000"),
            ("\"\\\\u0000\"", "\\u0000"),
        ] {
            let text = PolicyFileTests.valid.replacingOccurrences(of: "description = \"d\"", with: "description = \(description)")
            #expect(text != PolicyFileTests.valid)
            let policy = try PolicyFile.parse(text: text, path: "p.toml")
            #expect(policy.description == expected, "\(text.debugDescription)")
        }
    }

    /// A backslash that ends a line inside a multi-line basic string still ends a line: errors
    /// after it point at their own line.
    @Test func aLineEndingBackslashDoesNotShiftLaterLineNumbers() {
        for (text, expected) in [("x = \"\"\"a \\\nb\"\"\"\ny = 1\na = [}]\n", 4), ("a = \"\"\"x\\\n\"\"\"\n[\u{E9}]\n", 3)] {
            do {
                _ = try PolicyFile.parse(text: text, path: "p.toml")
                Issue.record("accepted \(text.debugDescription)")
            } catch let error as ConfigurationError {
                #expect(error.line == expected, "\(text.debugDescription): \(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    /// Lines inside a multi-line string are not headers or keys to the line finder: an error after
    /// such a string still points at its own line.
    @Test func linesInsideAMultilineStringAreNotHeadersOrKeys() {
        let text = """
            [[vantage]]
            name = "a"
            kind = "proxy"
            proxy = "http://127.0.0.1:1"
            ca_cert = \"\"\"
            [[vantage]]
            kind = "x"
            \"\"\"

            [[vantage]]
            name = "b"
            kind = "tor"

            """
        do {
            _ = try VantagesFile.parse(text: text, path: "v.toml")
            Issue.record("accepted kind = \"tor\"")
        } catch let error as ConfigurationError {
            #expect(error.line == 12 && error.field == "kind", "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func aCarriageReturnThatDoesNotEndALineIsRefusedWithItsLine() {
        do {
            _ = try VantagesFile.parse(text: "[[vantage]]\nname = \"a\"\rkind = \"local\"\n", path: "v.toml")
            Issue.record("accepted a bare carriage return")
        } catch let error as ConfigurationError {
            #expect(error.line == 2, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
