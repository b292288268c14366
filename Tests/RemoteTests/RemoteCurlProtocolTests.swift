import Crypto
import Foundation
@testable import Remote
import Testing
import Transport

/// The remote command, its standard input, and how its output is read — no network.
@Suite struct RemoteCurlProtocolTests {
    @Test func theCommandIsOneConstantLineSafeInsideSingleQuotes() {
        let script = RemoteCurlScript.script
        #expect(!script.contains("'"))
        #expect(!script.contains("!"))
        #expect(!script.contains("\n"))
        #expect(!script.contains("\\\\"))
        #expect(RemoteCurlScript.command.hasPrefix("sh -c '"))
        #expect(script.contains("-q -K -"))
        #expect(script.contains("--noproxy \"*\""))
        #expect(script.contains("--proto =http,https"))
        #expect(!script.contains(" -L"))
    }

    @Test(arguments: [
        ("plain", "\"plain\""),
        ("a\"b", "\"a\\\"b\""),
        ("back\\slash\\n", "\"back\\\\slash\\\\n\""),
        ("$(touch x) `y`; 'z'", "\"$(touch x) `y`; 'z'\""),
    ])
    func configValuesAreQuoted(value: String, quoted: String) {
        #expect(RemoteCurlScript.quoted(value) == quoted)
    }

    @Test func standardInputCarriesTheRequestAndTheCA() {
        let request = HTTPRequest(
            url: "https://r.example/v2/a/blobs/sha256:00", headers: [(name: "Authorization", value: "Bearer se\"cret"), (name: "X-Empty", value: "")],
            rangeStart: 42)
        let pem = Data("-----BEGIN CERTIFICATE-----\r\nAAAA\r\n3TOFU-END-CA\r\n-----END CERTIFICATE-----\r\n".utf8)
        let text = String(decoding: RemoteCurlScript.standardInput(
            for: request, mode: .hash, memoryLimit: nil, options: .init(extraCAPEM: pem), nonce: "n0"), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "3tofu-curl/2 hash 1 - n0 r.example:443,r.example")
        #expect(lines.last == "3TOFU-END-CONFIG")
        #expect(lines[1...4] == ["-----BEGIN CERTIFICATE-----", "AAAA", "-----END CERTIFICATE-----", "3TOFU-END-CA"])
        #expect(lines.contains("url = \"https://r.example/v2/a/blobs/sha256:00\""))
        #expect(lines.contains("header = \"Authorization: Bearer se\\\"cret\""))
        #expect(lines.contains("header = \"X-Empty;\""))
        #expect(lines.contains("range = \"42-\""))
        #expect(!lines.contains { $0.hasPrefix("max-filesize") })
        #expect(!text.contains("\r"))
    }

    /// The most bytes the remote hashes travels on the first line: the maximum, less a range start,
    /// only in mode hash (a streamed body is held to the limit here, where it arrives).
    @Test(arguments: [
        (HTTPRequest(url: "https://r/b", maximumBodyLength: 23_456), RemoteCurlScript.Mode.hash, "3tofu-curl/2 hash 0 23456 n r:443,r"),
        (HTTPRequest(url: "https://r/b", rangeStart: 456, maximumBodyLength: 23_456), .hash, "3tofu-curl/2 hash 0 23000 n r:443,r"),
        (HTTPRequest(url: "https://r/b"), .hash, "3tofu-curl/2 hash 0 - n r:443,r"),
        (HTTPRequest(url: "https://r/b", maximumBodyLength: 23_456), .stream, "3tofu-curl/2 stream 0 - n r:443,r"),
    ])
    func theHashedBodyLimitIsOnTheFirstLine(request: HTTPRequest, mode: RemoteCurlScript.Mode, line: String) {
        let text = String(decoding: RemoteCurlScript.standardInput(for: request, mode: mode, memoryLimit: nil, options: .init(), nonce: "n"), as: UTF8.self)
        #expect(text.split(separator: "\n").first.map(String.init) == line)
    }

    /// A remote that answers interim responses for ever is cut off after a few, whatever the chunking.
    @Test(arguments: [RemoteCurlReply.HeadParser.maximumInterimResponses, RemoteCurlReply.HeadParser.maximumInterimResponses + 1])
    func interimResponsesAreCapped(count: Int) throws {
        let stdout = Data((String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: count) + "HTTP/1.1 200 OK\r\n\r\nbody").utf8)
        var parser = RemoteCurlReply.HeadParser()
        let fed = Result { try stdout.withUnsafeBytes { Data(try parser.feed($0)) } }
        if count <= RemoteCurlReply.HeadParser.maximumInterimResponses {
            #expect(try fed.get() == Data("body".utf8))
            #expect(parser.head?.status == 200)
        } else {
            #expect(throws: RemoteCurlReply.ParseError.self) { try fed.get() }
            #expect(parser.head == nil)
        }
    }

    @Test(arguments: [1, 2, 5, 7, 1000])
    func headsSplitAcrossChunksAndInterimResponsesAreSkipped(chunkSize: Int) throws {
        let stdout = Data("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A:  b \r\n\r\nbody\r\n\r\nmore".utf8)
        var parser = RemoteCurlReply.HeadParser()
        var body = Data()
        var offset = 0
        while offset < stdout.count {
            let chunk = stdout[offset..<min(offset + chunkSize, stdout.count)]
            try chunk.withUnsafeBytes { bytes in body.append(contentsOf: try parser.feed(bytes)) }
            offset += chunkSize
        }
        let head = try #require(parser.head)
        #expect(head.status == 200)
        #expect(head.headers["content-type"] == "text/plain")
        #expect(head.headers["X-A"] == "b")
        #expect(body == Data("body\r\n\r\nmore".utf8))
    }

    @Test func aMissingStatusLineIsAnError() {
        var parser = RemoteCurlReply.HeadParser()
        #expect(throws: RemoteCurlReply.ParseError.self) {
            try Data("garbage\r\n\r\n".utf8).withUnsafeBytes { _ = try parser.feed($0) }
        }
    }

    @Test func theTrailerGivesEvidenceExitAndHash() {
        let stderr = """
            curl: (60) SSL certificate problem: unable to get local issuer certificate

            3tofu-w remote_ip 203.0.113.9
            3tofu-w http_version 2
            3tofu-w url_effective https://user:pw@r.example/v2/
            3tofu-w size_download 123
            3tofu-w time_total 0.250
            3tofu-w certs-begin
            Subject:CN = r.example
            Cert:-----BEGIN CERTIFICATE-----
            AAEC
            -----END CERTIFICATE-----

            3tofu-w certs-end
            3tofu-sha256 \(String(repeating: "ab", count: 32))
            3tofu-exit 60

            """
        let trailer = RemoteCurlReply.Trailer.parse(Data(stderr.utf8))
        #expect(trailer.curlExit == 60)
        #expect(trailer.curlMessage == "(60) SSL certificate problem: unable to get local issuer certificate")
        #expect(trailer.sha256 == String(repeating: "ab", count: 32))
        #expect(trailer.certificates == [Data([0, 1, 2])])
        let evidence = trailer.evidence(headers: HTTPHeaders([.init(name: "RateLimit-Remaining", value: "99")]))
        #expect(evidence.remoteIP == "203.0.113.9")
        #expect(evidence.httpVersion == "2")
        #expect(evidence.effectiveURL == "https://r.example/v2/")
        #expect(evidence.timings.total == 0.25)
        #expect(evidence.rateLimit == ["ratelimit-remaining": "99"])
        #expect(evidence.certificateSHA256 == ["ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc"])
        #expect(RemoteCurlReply.errorKind(curlExit: 60) == .tls)
        #expect(RemoteCurlReply.errorKind(curlExit: 6) == .dns)
        #expect(RemoteCurlReply.errorKind(curlExit: 28) == .timeout)
    }

    @Test func knownHostsKeyTypesForAHostPlainAndHashed() throws {
        // "|1|salt|hash" for "[127.0.0.1]:2222", made with ssh-keygen -H.
        let salt = Data(repeating: 7, count: 20)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data("[127.0.0.1]:2222".utf8), using: SymmetricKey(data: salt))
        let hashed = "|1|\(salt.base64EncodedString())|\(Data(mac).base64EncodedString())"
        let text = """
            # comment
            other.example ssh-rsa AAAA
            [127.0.0.1]:2222,alias ssh-ed25519 AAAA
            \(hashed) ecdsa-sha2-nistp256 AAAA
            @revoked [127.0.0.1]:2222 ssh-rsa AAAA
            127.0.0.1 ssh-dss AAAA
            """
        #expect(KnownHostsFile.keyAlgorithms(in: text, host: "127.0.0.1", port: 2222) == ["ssh-ed25519", "ecdsa-sha2-nistp256"])
        #expect(KnownHostsFile.keyAlgorithms(in: text, host: "127.0.0.1", port: 22) == ["ssh-dss"])
        #expect(KnownHostsFile.keyAlgorithms(in: text, host: "OTHER.example", port: 22) == ["ssh-rsa"])
        #expect(KnownHostsFile.hostKeyMethods(for: ["ssh-rsa", "ssh-ed25519"]) == ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ssh-ed25519"])
    }
}
