import Testing
@testable import OCI

struct AuthChallengeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var header: String
        var expected: [AuthChallenge]
        var testDescription: String { header }
    }

    static let valid: [Case] = [
        Case(
            header: #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/hitch:pull""#,
            expected: [
                AuthChallenge(scheme: "bearer", parameters: [
                    "realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/hitch:pull",
                ]),
            ]
        ),
        Case(
            header: #"Bearer realm="a",service="b", Basic realm="x""#,
            expected: [
                AuthChallenge(scheme: "bearer", parameters: ["realm": "a", "service": "b"]),
                AuthChallenge(scheme: "basic", parameters: ["realm": "x"]),
            ]
        ),
        Case(
            header: #"Basic realm="a \"quoted\" \\ realm""#,
            expected: [AuthChallenge(scheme: "basic", parameters: ["realm": #"a "quoted" \ realm"#])]
        ),
        Case(
            header: #"Bearer realm="https://ghcr.io/token",scope="repository:a/b:pull,push""#,
            expected: [AuthChallenge(scheme: "bearer", parameters: ["realm": "https://ghcr.io/token", "scope": "repository:a/b:pull,push"])]
        ),
        Case(header: "Negotiate abc123==", expected: [AuthChallenge(scheme: "negotiate", token68: "abc123==")]),
        Case(
            header: #"Negotiate a-b.c_d~e+f/g=, Basic realm="r""#,
            expected: [AuthChallenge(scheme: "negotiate", token68: "a-b.c_d~e+f/g="), AuthChallenge(scheme: "basic", parameters: ["realm": "r"])]
        ),
        Case(
            header: #"BEARER Realm="r", SERVICE=svc"#,
            expected: [AuthChallenge(scheme: "bearer", parameters: ["realm": "r", "service": "svc"])]
        ),
        Case(
            header: "  Bearer \t realm = \"r\" ,  service=\"s\"  ",
            expected: [AuthChallenge(scheme: "bearer", parameters: ["realm": "r", "service": "s"])]
        ),
        Case(header: "Basic", expected: [AuthChallenge(scheme: "basic")]),
        Case(
            header: #"Basic, Bearer realm="x""#,
            expected: [AuthChallenge(scheme: "basic"), AuthChallenge(scheme: "bearer", parameters: ["realm": "x"])]
        ),
        Case(header: #", Basic realm="x",, "#, expected: [AuthChallenge(scheme: "basic", parameters: ["realm": "x"])]),
        Case(header: #"Basic realm="""#, expected: [AuthChallenge(scheme: "basic", parameters: ["realm": ""])]),
        Case(
            header: "Basic realm=\"caf\u{e9} \u{1F433}\"",
            expected: [AuthChallenge(scheme: "basic", parameters: ["realm": "caf\u{e9} \u{1F433}"])]
        ),
        Case(
            header: #"Bearer realm="a", error="insufficient_scope", Digest realm="d", nonce="n", qop="auth,auth-int""#,
            expected: [
                AuthChallenge(scheme: "bearer", parameters: ["realm": "a", "error": "insufficient_scope"]),
                AuthChallenge(scheme: "digest", parameters: ["realm": "d", "nonce": "n", "qop": "auth,auth-int"]),
            ]
        ),
    ]

    @Test(arguments: valid)
    func parses(_ testCase: Case) throws {
        #expect(try AuthChallenge.parse(testCase.header) == testCase.expected)
    }

    @Test func looksUpParametersCaseInsensitively() throws {
        let challenge = try #require(try AuthChallenge.parse(#"Bearer Realm="https://r/token""#).first)
        #expect(challenge.parameter("REALM") == "https://r/token")
        #expect(challenge.realm == "https://r/token")
        #expect(challenge.parameter("service") == nil)
    }

    @Test(arguments: [
        ("", "holds no challenge"),
        (" , ,", "holds no challenge"),
        (#"Bearer realm="unterminated"#, "never closed"),
        (#"Bearer realm="ends in backslash\"#, "lone backslash"),
        (#"="x""#, "expected an authentication scheme"),
        (#"realm="x""#, "expected a space after scheme"),
        (#"Bearer realm="a" service="b""#, "expected ',' after parameter \"realm\""),
        (#"Bearer realm="a", realm="b""#, "appears twice"),
        (#"Bearer realm="a", REALM="b""#, "appears twice"),
        ("Bearer realm=\"a\u{1}b\"", "control character"),
        ("Bearer @@@", "expected parameters (name=value) or a token68"),
        ("Negotiate abc== def", "expected parameters (name=value) or a token68"),
        (#"Basic realm="a" "b""#, "expected ','"),
        ("Bearer realm=\"" + String(repeating: "a", count: 16 * 1024) + "\"", "more than the 16384 accepted"),
    ])
    func rejectsMalformedHeaders(header: String, fragment: String) {
        #expect {
            try AuthChallenge.parse(header)
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == .invalidChallenge && error.message.contains(fragment)
        }
    }

    @Test func acceptsAHeaderOfExactlyTheLimit() throws {
        let prefix = #"Bearer realm=""#
        let header = prefix + String(repeating: "a", count: AuthChallenge.maximumHeaderLength - prefix.utf8.count - 1) + "\""
        #expect(header.utf8.count == AuthChallenge.maximumHeaderLength)
        #expect(try AuthChallenge.parse(header).first?.realm?.count == AuthChallenge.maximumHeaderLength - prefix.utf8.count - 1)
    }
}
