import Foundation
import Remote
import Testing
import TestSupport
import Transport

/// Every transport refuses the same bad requests, with the same error, before anything is sent:
/// libcurl, the SSH vantage's remote curl and `3tofu agent` share one check
/// (`Transport.RequestValidation`). Each runs against a real server that would answer a request
/// that got through: a file server on loopback, and a real sshd in front of it.
@Suite("one request validation for every transport", .serialized)
struct RequestValidationTableTests {
    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var request: HTTPRequest
        var kind: TransportError.Kind
        var mentions: String
        var testDescription: String { name }
    }

    /// `base` is a URL that would be served: each bad request is made from it.
    static func table(base: String) -> [Bad] {
        [
            Bad(name: "file URL", request: HTTPRequest(url: "file:///etc/passwd"), kind: .unsupportedScheme, mentions: "only http:// and https://"),
            Bad(name: "ftp URL", request: HTTPRequest(url: "ftp://127.0.0.1/a"), kind: .unsupportedScheme, mentions: "only http:// and https://"),
            Bad(name: "space in the URL", request: HTTPRequest(url: base + "/a b"), kind: .other, mentions: "white space or control characters"),
            Bad(name: "line feed in the URL", request: HTTPRequest(url: base + "/a\nurl = \"file:///etc/passwd\""), kind: .other, mentions: "white space or control characters"),
            // Transport refused only white space before; the remote curl refused these too.
            Bad(name: "control character in the URL", request: HTTPRequest(url: base + "/a\u{1}b"), kind: .other, mentions: "white space or control characters"),
            Bad(name: "DEL in the URL", request: HTTPRequest(url: base + "/a\u{7f}b"), kind: .other, mentions: "white space or control characters"),
            Bad(name: "NUL in the URL", request: HTTPRequest(url: base + "/a\u{0}b"), kind: .other, mentions: "white space or control characters"),
            Bad(name: "escape in the URL", request: HTTPRequest(url: base + "/\u{1b}[2J"), kind: .other, mentions: "white space or control characters"),
            Bad(name: "no-break space in the URL", request: HTTPRequest(url: base + "/a\u{a0}b"), kind: .other, mentions: "white space or control characters"),
            Bad(name: "line separator in the URL", request: HTTPRequest(url: base + "/a\u{2028}b"), kind: .other, mentions: "white space or control characters"),
            Bad(
                name: "header name with a space", request: HTTPRequest(url: base + "/ok", headers: [(name: "Bad Name", value: "x")]), kind: .other,
                mentions: "request header name \"Bad Name\" is not a valid HTTP token"),
            Bad(
                name: "empty header name", request: HTTPRequest(url: base + "/ok", headers: [(name: "", value: "x")]), kind: .other,
                mentions: "is not a valid HTTP token"),
            Bad(
                name: "header name with a colon", request: HTTPRequest(url: base + "/ok", headers: [(name: "X:Y", value: "x")]), kind: .other,
                mentions: "is not a valid HTTP token"),
            Bad(
                name: "line feed in a header value",
                request: HTTPRequest(url: base + "/ok", headers: [(name: "Authorization", value: "Bearer t\nurl = \"file:///etc/passwd\"")]),
                kind: .other, mentions: "the value of request header Authorization contains a line break or NUL"),
            Bad(
                name: "carriage return in a header value", request: HTTPRequest(url: base + "/ok", headers: [(name: "X-A", value: "a\rb")]), kind: .other,
                mentions: "contains a line break or NUL"),
            Bad(
                name: "NUL in a header value", request: HTTPRequest(url: base + "/ok", headers: [(name: "X-A", value: "a\u{0}b")]), kind: .other,
                mentions: "contains a line break or NUL"),
            Bad(name: "negative range start", request: HTTPRequest(url: base + "/ok", rangeStart: -1), kind: .other, mentions: "range start -1 is negative"),
            Bad(
                name: "negative maximum", request: HTTPRequest(url: base + "/ok", maximumBodyLength: -5), kind: .other,
                mentions: "maximum body length -5 is negative"),
        ]
    }

    @Test func everyTransportRefusesTheSameBadRequestsBeforeSendingThem() async throws {
        let root = try TemporaryDirectory(prefix: "validation")
        try Data("served".utf8).write(to: URL(fileURLWithPath: root.file("ok")))
        let files = try await FileServer(root: root.path)
        let server = try await SSHServer()
        defer { server.killEverything() }
        let target = SSHTarget(
            host: server.host, port: server.port, user: server.user, identity: server.userKeyPath, knownHosts: server.knownHostsPath,
            connectTimeout: 5, idleTimeout: 20)
        let transports: [any HTTPTransport] = [
            try CurlTransport(configuration: TransportConfiguration(proxy: nil)),
            SSHCurlTransport(connection: SSHConnection(target: target)),
            SSHAgentTransport(connection: SSHConnection(target: target), connectTimeout: 5),
        ]
        // The check runs before any exchange; a user name in the URL never reaches the error.
        let base = files.baseURL.replacingOccurrences(of: "http://", with: "http://user:secret@")
        for bad in Self.table(base: base) {
            var errors: [TransportError] = []
            for transport in transports {
                for destination in [BodyDestination.memory(limit: 1 << 20), .discard] {
                    do {
                        let response = try await transport.perform(bad.request, into: destination)
                        Issue.record("\(bad.name): \(type(of: transport)) sent it (HTTP \(response.status))")
                    } catch let error as TransportError {
                        errors.append(error)
                    } catch {
                        Issue.record("\(bad.name): \(type(of: transport)) failed with \(error), not a TransportError")
                    }
                }
            }
            #expect(errors.count == transports.count * 2, "\(bad.name)")
            let first = try #require(errors.first, "\(bad.name)")
            #expect(first.kind == bad.kind, "\(bad.name): \(first)")
            #expect(first.detail.contains(bad.mentions), "\(bad.name): \(first.detail)")
            #expect(!first.url.contains("secret"), "\(bad.name): \(first.url)")
            #expect(errors.allSatisfy { $0 == first }, "\(bad.name): the transports disagree: \(errors)")
        }
        #expect(files.requests().isEmpty, "a bad request reached the file server: \(files.requests())")
        #expect(!server.log().contains("Accepted publickey"), "an SSH transport logged in for a bad request:\n\(server.log())")
    }
}
