import Foundation
import OCI
import Testing

/// Bodies and strings an attacker on one route (or a broken registry) could send: each is refused
/// with an `OCIError`, quickly, without crashing the process.
@Suite struct HostileInputTests {
    static let config = #"{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:\#(Fixtures.hex("a"))","size":2}"#

    static func manifest(layers: String = "[]", extra: String = "") -> String {
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":\#(config),"layers":\#(layers)\#(extra)}"#
    }

    static func layer(_ size: String = "10", digest: String = "sha256:" + Fixtures.hex("b")) -> String {
        #"{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(digest)","size":\#(size)}"#
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        var name: String
        var body: String
        var contentType: String? = nil
        var mentions: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        Bad(name: "duplicate layers key", body: manifest(extra: #","layers":[\#(layer())]"#), mentions: "repeats the key \"layers\""),
        Bad(name: "duplicate key spelled with an escape", body: manifest(extra: #","l\u0061yers":[]"#), mentions: "repeats the key"),
        Bad(name: "layers and Layers", body: manifest(extra: #","Layers":[\#(layer())]"#), mentions: "differ only by case"),
        Bad(name: "Kelvin sign K in a key", body: #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":\#(config),"layers":[\#(layer())],"anno\#u{212A}":1,"annok":2}"#, mentions: "differ only by case"),
        Bad(name: "duplicate mediaType", body: #"{"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}"#, mentions: "repeats the key \"mediaType\""),
        Bad(name: "duplicate digest in a descriptor", body: manifest(layers: #"[{"mediaType":"x","digest":"sha256:\#(Fixtures.hex("b"))","digest":"sha256:\#(Fixtures.hex("c"))","size":1}]"#), mentions: "repeats the key \"digest\""),
        Bad(name: "negative size", body: manifest(layers: "[\(layer("-1"))]"), mentions: "negative"),
        Bad(name: "size beyond Int64", body: manifest(layers: "[\(layer("99999999999999999999"))]"), mentions: "not valid"),
        Bad(name: "fractional size", body: manifest(layers: "[\(layer("1.5"))]"), mentions: "not valid"),
        Bad(name: "size as a string", body: manifest(layers: "[\(layer("\"10\""))]"), mentions: "size"),
        Bad(name: "unknown digest algorithm", body: manifest(layers: "[\(layer(digest: "md5:" + Fixtures.hex("b", 32)))]"), mentions: "md5"),
        Bad(name: "uppercase hex", body: manifest(layers: "[\(layer(digest: "sha256:" + Fixtures.hex("B")))]"), mentions: "lowercase"),
        Bad(name: "short hex", body: manifest(layers: "[\(layer(digest: "sha256:abc"))]"), mentions: "hex digits"),
        Bad(name: "digest with a path", body: manifest(layers: "[\(layer(digest: "sha256:../../../etc/passwd"))]"), mentions: "digest"),
        Bad(name: "index body with a manifest Content-Type", body: #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            contentType: "application/vnd.oci.image.manifest.v1+json", mentions: "inconsistent"),
        Bad(name: "manifest body labelled schema 1", body: manifest(), contentType: "application/vnd.docker.distribution.manifest.v1+prettyjws", mentions: "schema 1"),
        Bad(name: "unknown body mediaType", body: #"{"schemaVersion":2,"mediaType":"text/html","layers":[]}"#, mentions: "neither"),
        Bad(name: "100k-deep array", body: manifest(extra: #","annotations":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)), mentions: "levels deep"),
        Bad(name: "100k-deep objects", body: String(repeating: #"{"a":"#, count: 100_000) + "1" + String(repeating: "}", count: 100_000), mentions: "levels deep"),
        Bad(name: "truncated", body: String(manifest().prefix(60)), mentions: "truncated"),
        Bad(name: "NUL bytes", body: "{\0\0\0}", mentions: "manifest"),
        Bad(name: "schemaVersion 3", body: #"{"schemaVersion":3,"config":{},"layers":[]}"#, mentions: "schemaVersion 3"),
        Bad(name: "layers not an array", body: manifest(layers: #"{"0":1}"#), mentions: "layers"),
    ])
    func hostileManifestIsRefused(_ bad: Bad) {
        do {
            let document = try ManifestDocument.decode(Data(bad.body.utf8), contentType: bad.contentType)
            Issue.record("accepted \(bad.name): \(document)")
        } catch let error as OCIError {
            #expect(error.message.contains(bad.mentions), "\(error.message)")
            #expect(error.message.count < 2_000, "the message repeats the hostile input: \(error.message.count) characters")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func keyCheckFindsOnlyRealDuplicates() {
        // Same key in different objects, or as a value, is fine.
        #expect(JSONKeyCheck.firstProblem(in: Array(#"{"a":{"a":1},"b":[{"a":2},{"a":3}],"c":"a"}"#.utf8)) == nil)
        #expect(JSONKeyCheck.firstProblem(in: Array(#"{"a\"b":1,"a\\b":2,"a/b":3,"a\/c":4}"#.utf8)) == nil)
        #expect(JSONKeyCheck.firstProblem(in: Array(#"{"a/b":1,"a\/b":2}"#.utf8))?.kind == .duplicateKey("a/b"))
        #expect(JSONKeyCheck.firstProblem(in: Array(#"{"\ud83d\ude00":1,"😀":2}"#.utf8))?.kind == .duplicateKey("😀"))
        #expect(JSONKeyCheck.firstProblem(in: Array(#"[{"x":1},{"x":1,"y":2,"x":3}]"#.utf8))?.kind == .duplicateKey("x"))
        // Malformed input is left to the decoder.
        #expect(JSONKeyCheck.firstProblem(in: Array(#"{"a":"\q","a":1}"#.utf8)) == nil)
        #expect(JSONKeyCheck.firstProblem(in: Array("]]]}}}\"".utf8)) == nil)
    }

    /// Keys fold as Go's encoding/json folds them (foldName): a pair that folds alike is refused,
    /// a pair Go keeps apart is not.
    @Test(arguments: [
        ("layers", "Layers", true), ("mediaType", "MEDIATYPE", true), ("k", "\u{212A}", true), ("s", "\u{17F}", true),
        ("Å", "\u{212B}", true), ("µ", "μ", true), ("σ", "ς", true), ("ß", "ẞ", true), ("ǅ", "ǆ", true), ("ᾀ", "ᾈ", true),
        ("Ω", "\u{2126}", true), ("é", "É", true), ("θ", "ϑ", true),
        ("i", "\u{130}", false), ("I", "\u{131}", false), ("ss", "ß", false), ("a", "b", false), ("layer", "layers", false),
    ])
    func keysThatDifferOnlyByGoCaseAreRefused(first: String, second: String, refused: Bool) {
        let body = Array(#"{"\#(first)":1,"\#(second)":2}"#.utf8)
        let problem = JSONKeyCheck.firstProblem(in: body)
        if refused {
            // Swift compares strings by canonical equivalence: the Angstrom and Ohm signs already
            // equal Å and Ω there, so the pair reads as the same key repeated.
            let kind: JSONKeyCheck.Problem.Kind = first == second ? .duplicateKey(second) : .caseVariantKey(second, first)
            #expect(problem?.kind == kind, "\(first) / \(second)")
        } else {
            #expect(problem == nil, "\(first) / \(second)")
        }
        #expect((JSONKeyCheck.goFolded(first) == JSONKeyCheck.goFolded(second)) == refused)
    }

    /// Text from outside shown on a terminal: control characters, C1, separators and bidirectional
    /// overrides are escaped; line feeds stay unless the text must be one line.
    @Test func terminalTextEscapesWhatATerminalWouldObey() {
        #expect(TerminalText.sanitized("ok\u{1B}[2Jgone\u{07}") == #"ok\u{1b}[2Jgone\u{7}"#)
        #expect(TerminalText.sanitized("a\u{9B}31m\u{7F}b\rc") == #"a\u{9b}31m\u{7f}b\u{d}c"#)
        #expect(TerminalText.sanitized("x\u{202E}y\u{2028}z") == #"x\u{202e}y\u{2028}z"#)
        #expect(TerminalText.sanitized("two\nlines\tand a tab") == "two\nlines\tand a tab")
        #expect(TerminalText.sanitized("two\nlines", oneLine: true) == "two lines")
        #expect(TerminalText.sanitized("wget 1.25 ✓ sha256:ab…") == "wget 1.25 ✓ sha256:ab…")
    }

    @Test func tenThousandLayersDecodeQuickly() throws {
        let layers = (0..<10_000).map { index in
            Self.layer(String(index + 1), digest: "sha256:" + String(format: "%064x", index))
        }.joined(separator: ",")
        let body = Data(Self.manifest(layers: "[\(layers)]").utf8)
        let (document, cpuSeconds) = try Self.cpuTime { try ManifestDocument.decode(body, contentType: nil) }
        #expect(cpuSeconds < 10, "decoding took \(cpuSeconds) s of CPU")
        #expect(document.referencedDescriptors.count == 10_001)
        #expect(JSONKeyCheck.firstProblem(in: body) == nil)
    }

    @Test func enormousSizesDecodeWithoutOverflow() throws {
        let body = Self.manifest(layers: "[\(Self.layer(String(Int64.max))),\(Self.layer(String(Int64.max), digest: "sha256:" + Fixtures.hex("c")))]")
        guard case .manifest(let manifest) = try ManifestDocument.decode(Data(body.utf8), contentType: nil) else {
            Issue.record("not a manifest")
            return
        }
        #expect(manifest.layers.map(\.size) == [Int64.max, Int64.max])
    }

    @Test(arguments: [
        "", ":", "sha256:", "sha256", ":abc", "SHA256:" + Fixtures.hex("a"), "sha256:" + Fixtures.hex("a", 63), "sha256:" + Fixtures.hex("a", 65),
        "sha512:" + Fixtures.hex("a", 64), "sha256:" + Fixtures.hex("g"), "sha256:" + Fixtures.hex("a", 63) + "\u{0}",
        "sha256:" + Fixtures.hex("a", 63) + "é", "blake3:" + Fixtures.hex("a"), "sha256+b64:abc", "sha256:" + String(repeating: "a", count: 1_000_000),
        String(repeating: ":", count: 10_000),
    ])
    func hostileDigestsAreRefused(_ text: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: text) }
    }

    @Test(arguments: [
        "", "/", "//", "a//b", "a/B", "host:99999999999999999999/a", "a:b:c", "a@sha256:zz", "a@", "a:", ":tag",
        String(repeating: "a/", count: 10_000) + "a", "a:" + String(repeating: "t", count: 129), "é/a", "a\u{0}b", "a b", "host:/a",
        "[::1/a", "[::1]:5000/a:" + String(repeating: "x", count: 200), String(repeating: "a", count: 1_000_000),
    ])
    func hostileReferencesAreRefused(_ text: String) {
        #expect(throws: OCIError.self) { try ImageReference(parsing: text) }
    }

    /// Found by `make fuzz` (Fuzz/regressions/reference/): a 253-character Docker Hub name parsed,
    /// but its normalised form (274 characters) did not parse again. Docker counts the length
    /// after normalising; so does 3tofu now, and whatever parses prints as a reference that parses.
    /// Each input says whether it parses: one that should parse and does not fails the test, as
    /// does one that parses although its normalised name is over Docker's 255 characters.
    @Test(arguments: [
        ("lrm64/v8inux/arm64/vvvvvvvvvvvv4/vvvvv/vvvvvvvvvv64/v8in/v8inux/aux/arm64/varm64/vvvvvvx/arm64/vvvvvvvvvvvv4/vvvvv/vvvvvvvvvv64/v8in/v8inux/aux/arm64/varm64/vvvvvvvvvvvv4/vvvvv/vvvvvvvvvv6iv8/4nux/arvvvvvvvv8vvvvvv4/vvvvv/vvvvvvvvvv6iv8/4nux/arvvvvvvvv8", false),
        (String(repeating: "a", count: 245) + "/b", false),
        (String(repeating: "a", count: 230) + ":tag", true),
        ("docker.io/library/" + String(repeating: "a", count: 237), true),
        ("docker.io/library/" + String(repeating: "a", count: 238), false),
    ])
    func parsedReferencesRoundTrip(_ text: String, parses: Bool) throws {
        guard parses else {
            #expect(throws: OCIError.self) { try ImageReference(parsing: text) }
            return
        }
        let reference = try ImageReference(parsing: text)
        #expect(try ImageReference(parsing: reference.description) == reference, "\(reference.description)")
    }

    struct Challenge: CustomTestStringConvertible, Sendable {
        enum Outcome: Sendable {
            /// Parses to exactly these challenges.
            case parses([AuthChallenge])
            /// Refused with an `OCIError` (`invalidChallenge`) whose message says this.
            case refused(mentions: String)
        }
        var name: String
        var header: String
        var outcome: Outcome
        var testDescription: String { name }
    }

    /// Every header either parses to what the test names or is refused with the message the test
    /// names, within 2 s of CPU (nothing quadratic), never anything in between.
    @Test(arguments: [
        Challenge(name: "unterminated quote", header: "Bearer realm=\"unterminated", outcome: .refused(mentions: "quoted string starting at offset 13 is never closed")),
        Challenge(name: "parameter without a value is a token68", header: "Bearer realm=", outcome: .parses([AuthChallenge(scheme: "Bearer", token68: "realm=")])),
        Challenge(name: "only an equals sign", header: "=", outcome: .refused(mentions: "expected an authentication scheme at offset 0")),
        Challenge(name: "only commas", header: ",,,,", outcome: .refused(mentions: "it holds no challenge")),
        Challenge(name: "quote ending in a backslash", header: "Bearer realm=\"a\\", outcome: .refused(mentions: "ends in a lone backslash and is never closed")),
        Challenge(name: "5000 schemes, over the size cap", header: String(repeating: "Bearer ", count: 5_000), outcome: .refused(mentions: "35000 bytes, more than the 16384 accepted")),
        Challenge(
            name: "100000 parameters, over the size cap", header: "Bearer " + String(repeating: "a=\"b\",", count: 100_000),
            outcome: .refused(mentions: "600007 bytes, more than the 16384 accepted")),
        Challenge(name: "NUL after the scheme", header: "Basic \u{0}", outcome: .refused(mentions: "after scheme \"Basic\" at offset 6")),
        Challenge(name: "DEL in a quoted value", header: "Bearer realm=\"\u{7f}\"", outcome: .refused(mentions: "contains a control character at offset 14")),
        Challenge(name: "2000 schemes, under the size cap", header: String(repeating: "Bearer ", count: 2_000), outcome: .refused(mentions: "after scheme \"Bearer\" at offset 7")),
        Challenge(
            name: "2500 repeats of one parameter, under the size cap", header: "Bearer " + String(repeating: "a=\"b\",", count: 2_500),
            outcome: .refused(mentions: "parameter \"a\" appears twice in the bearer challenge")),
        Challenge(
            name: "1300 challenges, under the size cap", header: String(repeating: "Bearer a=b, ", count: 1_300),
            outcome: .parses(Array(repeating: AuthChallenge(scheme: "bearer", parameters: ["a": "b"]), count: 1_300))),
    ])
    func hostileChallengesParseOrAreRefusedQuickly(_ challenge: Challenge) {
        let (result, cpuSeconds) = Self.cpuTime { Result { try AuthChallenge.parse(challenge.header) } }
        #expect(cpuSeconds < 2, "parsing took \(cpuSeconds) s of CPU")
        switch (challenge.outcome, result) {
        case (.parses(let expected), .success(let parsed)):
            #expect(parsed == expected)
        case (.refused(let mentions), .failure(let error as OCIError)):
            #expect(error.code == .invalidChallenge)
            #expect(error.message.contains(mentions), "\(error.message)")
            #expect(error.message.count < 2_000, "the message repeats the hostile input: \(error.message.count) characters")
        case (.parses, .failure(let error)):
            Issue.record("refused, but should parse: \(error)")
        case (.refused, .success(let parsed)):
            Issue.record("parsed \(parsed.count) challenges, but should be refused")
        case (.refused, .failure(let error)):
            Issue.record("refused with \(error), not an OCIError")
        }
    }

    /// Runs `work` and returns its result with the CPU time this thread spent on it. "Quickly" here
    /// means "not quadratic": CPU time, unlike the wall clock, does not grow when the machine is busy.
    static func cpuTime<T>(_ work: () throws -> T) rethrows -> (T, Double) {
        func now() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let start = now()
        let result = try work()
        return (result, now() - start)
    }
}
