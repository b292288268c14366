import Testing
@testable import OCI

struct ImageReferenceTests {
    struct Valid: Sendable, CustomTestStringConvertible {
        var input: String
        var registry: String
        var repository: String
        var tag: String?
        var digest: String?
        var testDescription: String { input }
    }

    static let digestA = Fixtures.sha256("a")

    static let valid: [Valid] = [
        Valid(input: "hitch", registry: "registry-1.docker.io", repository: "library/hitch", tag: "latest"),
        Valid(input: "hitch:1.8", registry: "registry-1.docker.io", repository: "library/hitch", tag: "1.8"),
        Valid(input: "docker.io/foo/bar", registry: "registry-1.docker.io", repository: "foo/bar", tag: "latest"),
        Valid(input: "docker.io/hitch", registry: "registry-1.docker.io", repository: "library/hitch", tag: "latest"),
        Valid(input: "index.docker.io/library/hitch", registry: "registry-1.docker.io", repository: "library/hitch", tag: "latest"),
        Valid(input: "registry-1.docker.io/foo/bar:v1", registry: "registry-1.docker.io", repository: "foo/bar", tag: "v1"),
        Valid(input: "localhost:5000/a/b:t@\(digestA)", registry: "localhost:5000", repository: "a/b", tag: "t", digest: digestA),
        Valid(input: "ghcr.io/homebrew/core/wget:1.25.0", registry: "ghcr.io", repository: "homebrew/core/wget", tag: "1.25.0"),
        Valid(input: "[::1]:5000/x", registry: "[::1]:5000", repository: "x", tag: "latest"),
        Valid(input: "[2001:db8::1]/team/app:v2", registry: "[2001:db8::1]", repository: "team/app", tag: "v2"),
        Valid(input: "hitch@\(digestA)", registry: "registry-1.docker.io", repository: "library/hitch", digest: digestA),
        Valid(input: "localhost/foo", registry: "localhost", repository: "foo", tag: "latest"),
        Valid(input: "localhost", registry: "registry-1.docker.io", repository: "library/localhost", tag: "latest"),
        Valid(input: "127.0.0.1:5000/team/app:v1.2-rc_3", registry: "127.0.0.1:5000", repository: "team/app", tag: "v1.2-rc_3"),
        Valid(input: "my-registry.example.com/a__b/c-d--e.f:TAG_1", registry: "my-registry.example.com", repository: "a__b/c-d--e.f", tag: "TAG_1"),
        Valid(input: "Registry.Example/x", registry: "Registry.Example", repository: "x", tag: "latest"),
        Valid(input: "quay.io/org/repo@sha512:\(Fixtures.hex("f", 128))", registry: "quay.io", repository: "org/repo", digest: "sha512:\(Fixtures.hex("f", 128))"),
        Valid(input: "foo/bar:_x", registry: "registry-1.docker.io", repository: "foo/bar", tag: "_x"),
    ]

    @Test(arguments: valid)
    func parsesValidReferences(_ valid: Valid) throws {
        let reference = try ImageReference(parsing: valid.input)
        #expect(reference.registry == valid.registry)
        #expect(reference.repository == valid.repository)
        #expect(reference.tag == valid.tag)
        #expect(reference.digest?.string == valid.digest)
    }

    @Test(arguments: [
        ("", OCIError.Code.invalidReference, "empty"),
        ("Foo", .invalidReference, "must be lowercase (try \"foo\")"),
        ("foo/Bar", .invalidReference, "must be lowercase"),
        ("a:b:c", .invalidReference, "at most one tag"),
        ("hitch:", .invalidReference, "tag after ':' is empty"),
        ("hitch:-bad", .invalidReference, "tag \"-bad\" is not valid"),
        ("hitch:.bad", .invalidReference, "not starting with '.' or '-'"),
        ("hitch:" + String(repeating: "t", count: 129), .invalidReference, "1 to 128"),
        ("hitch@sha256:abc", .invalidDigest, "3 hex digits"),
        ("hitch@md5:d41d8cd98f00b204e9800998ecf8427e", .unsupportedDigestAlgorithm, "\"md5\""),
        ("hitch@", .invalidReference, "nothing follows '@'"),
        ("@" + Fixtures.sha256("a"), .invalidReference, "repository name is missing"),
        (":tag", .invalidReference, "repository name is missing"),
        ("https://ghcr.io/owner/x", .invalidReference, "drop the scheme"),
        ("docker://hitch", .invalidReference, "drop the scheme"),
        ("ghcr.io/a//b", .invalidReference, "empty path component"),
        ("ghcr.io/", .invalidReference, "path after the registry is empty"),
        ("ghcr.io/a..b", .invalidReference, "component \"a..b\" is not valid"),
        ("ghcr.io/a___b", .invalidReference, "is not valid"),
        ("ghcr.io/-a/b", .invalidReference, "is not valid"),
        ("ghcr.io/a-/b", .invalidReference, "is not valid"),
        ("ghcr.io/a_-b", .invalidReference, "is not valid"),
        ("ghcr.io:99999/x", .invalidReference, "port \"99999\""),
        ("ghcr.io:/x", .invalidReference, "port \"\""),
        ("ghcr.io:http/x", .invalidReference, "port \"http\""),
        ("[::1/x", .invalidReference, "never closes"),
        ("[zz]:5000/x", .invalidReference, "IPv6"),
        ("ex_ample.com/x", .invalidReference, "not a valid host name"),
        ("-bad.com/x", .invalidReference, "not a valid host name"),
        ("hitch latest", .invalidReference, "whitespace"),
        (Fixtures.hex("a"), .invalidReference, "image ID"),
        (String(repeating: "a", count: 256), .invalidReference, "at most 255"),
    ])
    func rejectsInvalidReferences(input: String, code: OCIError.Code, fragment: String) {
        #expect {
            try ImageReference(parsing: input)
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == code && error.message.contains(fragment)
        }
    }

    @Test func errorMessagesNameTheInput() {
        #expect {
            try ImageReference(parsing: "Foo")
        } throws: { error in
            (error as? OCIError)?.message.hasPrefix("invalid image reference \"Foo\": ") == true
        }
    }

    @Test(arguments: [
        ("hitch", "registry-1.docker.io/library/hitch:latest", "latest"),
        ("ghcr.io/a/b@\(digestA)", "ghcr.io/a/b@\(digestA)", digestA),
        ("localhost:5000/a/b:t@\(digestA)", "localhost:5000/a/b:t@\(digestA)", digestA),
        ("[::1]:5000/x:v1", "[::1]:5000/x:v1", "v1"),
    ])
    func describesAndNamesTheManifest(input: String, description: String, manifestReference: String) throws {
        let reference = try ImageReference(parsing: input)
        #expect(reference.description == description)
        #expect(reference.manifestReference == manifestReference)
        #expect(try ImageReference(parsing: reference.description) == reference)
    }

    @Test func pinningKeepsTheTag() throws {
        let digest = try Digest(parsing: Fixtures.sha256("b"))
        let pinned = try ImageReference(parsing: "hitch:1.8").pinned(to: digest)
        #expect(pinned.tag == "1.8")
        #expect(pinned.digest == digest)
        #expect(pinned.manifestReference == digest.string)
        #expect(pinned.description == "registry-1.docker.io/library/hitch:1.8@\(digest)")
        #expect(try ImageReference(parsing: "hitch:1.8@\(digest)") == pinned)
    }

    @Test(arguments: [
        ("hitch", true, "hitch"),
        ("docker.io/foo/bar", true, "foo/bar"),
        ("index.docker.io/library/a/b", true, "library/a/b"),
        ("ghcr.io/homebrew/core/wget", false, "ghcr.io/homebrew/core/wget"),
        ("localhost:5000/x", false, "localhost:5000/x"),
    ])
    func knowsDockerHubAndFamiliarNames(input: String, isDockerHub: Bool, familiarName: String) throws {
        let reference = try ImageReference(parsing: input)
        #expect(reference.isDockerHub == isDockerHub)
        #expect(reference.familiarName == familiarName)
    }
}
