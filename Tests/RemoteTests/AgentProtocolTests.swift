import Crypto
import Foundation
@testable import Remote
import Testing
import TestSupport
import Transport

/// The `3tofu-agent/1` wire format (docs/AGENT-PROTOCOL.md): request lines, reply heads, and how
/// the local side reads a reply stream, without SSH.
@Suite("3tofu agent protocol")
struct AgentProtocolTests {
    static func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    static func head(status: Int = 200, body: Data, headers: [HTTPHeaders.Field] = [HTTPHeaders.Field(name: "Content-Type", value: "a/b")]) -> AgentProtocol.ReplyHead {
        AgentProtocol.ReplyHead(
            status: status, headers: HTTPHeaders(headers), bodyLength: Int64(body.count), bodySHA256: hex(body),
            evidence: TransportEvidence(remoteIP: "192.0.2.1", effectiveURL: "https://registry.test/v2/", httpVersion: "2"))
    }

    /// Feeds `stream` to a receiver in chunks of `chunk` bytes.
    static func receive(
        _ stream: Data, chunk: Int, into destination: BodyDestination, request: HTTPRequest = HTTPRequest(url: "https://registry.test/x")
    ) throws -> AgentReplyReceiver {
        let receiver = AgentReplyReceiver(request: request, destination: destination, shownURL: "https://registry.test/x", route: "ssh://u@h:22")
        var offset = 0
        while offset < stream.count {
            let part = stream.subdata(in: offset..<min(stream.count, offset + chunk))
            try part.withUnsafeBytes { try receiver.receive($0) }
            offset += chunk
        }
        return receiver
    }

    static func exec(status: Int32? = 0, stderr: String = "") -> SSHSession.ExecResult {
        SSHSession.ExecResult(exitStatus: status, exitSignal: nil, stderr: Data(stderr.utf8), stderrTruncated: false)
    }

    @Test func aRequestIsOneJSONLineThatRoundTrips() throws {
        let http = HTTPRequest(
            method: .get, url: "https://registry.test/v2/a/blobs/sha256:00",
            headers: [("Authorization", "Bearer se\"cr\net"), ("Accept", "*/*")], rangeStart: 42)
        let request = AgentProtocol.Request(http, mode: .stream, memoryLimit: 4096, caPEM: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", connectTimeout: 7)
        let line = try AgentProtocol.line(request)
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.filter { $0 == UInt8(ascii: "\n") }.count == 1, "control characters are escaped inside the line")
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasPrefix("{"))
        #expect(text.contains("\"protocol\":\"3tofu-agent/1\""))
        let decoded = try AgentProtocol.decodeRequest(line)
        #expect(decoded == request)
        #expect(try decoded.httpRequest() == http)
        // Without the final line feed too.
        #expect(try AgentProtocol.decodeRequest(line.dropLast()) == request)
    }

    @Test(arguments: [
        ("", "empty"),
        ("not json", "not a 3tofu-agent/1 JSON object"),
        ("{\"protocol\":\"3tofu-agent/1\"}\n{}", "more than one line"),
        ("{\"protocol\":\"3tofu-agent/9\",\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[],\"mode\":\"stream\"}", "3tofu-agent/9"),
        ("{\"protocol\":\"3tofu-agent/1\",\"method\":\"POST\",\"url\":\"http://a/\",\"headers\":[],\"mode\":\"stream\"}", "POST"),
        ("{\"protocol\":\"3tofu-agent/1\",\"method\":\"GET\",\"url\":\"http://a/\",\"headers\":[],\"mode\":\"upload\"}", "not a 3tofu-agent/1 JSON object"),
    ])
    func badRequestsAreRefusedWithAReason(input: String, reason: String) {
        do {
            _ = try AgentProtocol.decodeRequest(Data(input.utf8)).httpRequest()
            Issue.record("accepted \(input)")
        } catch let failure as SSHError {
            #expect(failure.description.contains(reason), "\(failure.description)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theAgentAnswersABadRequestWithAnErrorLineAndStatus2() async throws {
        let collected = AgentOutputCollector()
        let status = await RemoteAgent.serve(Data("{\"protocol\":\"3tofu-agent/1\"}\n".utf8)) { collected.data.append($0) }
        #expect(status == RemoteAgent.exitBadRequest)
        #expect(collected.data.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        let head = try AgentProtocol.decodeReplyHead(collected.data.dropLast())
        #expect(head.error?.kind == "badRequest")
        #expect(head.status == nil)
    }

    @Test(arguments: [1, 7, 100_000])
    func aStreamedReplyIsSplitIntoHeadAndBodyAtAnyChunkSize(chunk: Int) throws {
        var body = Data(count: 5000)
        for index in body.indices { body[index] = UInt8(truncatingIfNeeded: index * 7) }
        body[10] = UInt8(ascii: "\n")
        let reply = Self.head(body: body)
        let receiver = try Self.receive(try AgentProtocol.line(reply) + body, chunk: chunk, into: .memory(limit: 1 << 20))
        #expect(receiver.head == reply)
        let response = try SSHAgentTransport.response(Self.exec(), receiver: receiver, mode: .stream, route: "ssh://u@h:22", shownURL: "u")
        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(response.bodySHA256 == Self.hex(body))
        #expect(response.headers["content-type"] == "a/b")
        #expect(response.evidence.remoteIP == "192.0.2.1")
        #expect(response.evidence.httpVersion == "2")
    }

    @Test func aHashReplyCarriesOnlyTheHashAndSize() throws {
        let body = Data(repeating: 9, count: 123_456)
        let reply = Self.head(body: body)
        let receiver = try Self.receive(try AgentProtocol.line(reply), chunk: 64, into: .discard)
        let response = try SSHAgentTransport.response(Self.exec(), receiver: receiver, mode: .hash, route: "r", shownURL: "u")
        #expect(response.bodySHA256 == Self.hex(body))
        #expect(response.bodyLength == 123_456)
        #expect(response.body.isEmpty)
    }

    @Test func aShortOrAlteredBodyIsRefused() throws {
        let body = Data("0123456789".utf8)
        let line = try AgentProtocol.line(Self.head(body: body))
        let short = try Self.receive(line + body.prefix(4), chunk: 3, into: .memory(limit: 100))
        #expect(throws: TransportError.self) {
            _ = try SSHAgentTransport.response(Self.exec(), receiver: short, mode: .stream, route: "r", shownURL: "u")
        }
        let altered = try Self.receive(line + Data("0123456780".utf8), chunk: 3, into: .memory(limit: 100))
        #expect(throws: TransportError.self) {
            _ = try SSHAgentTransport.response(Self.exec(), receiver: altered, mode: .stream, route: "r", shownURL: "u")
        }
        #expect(throws: TransportError.self) {
            _ = try Self.receive(line + body + Data("extra".utf8), chunk: 4, into: .memory(limit: 100))
        }
        #expect(throws: TransportError.self) {
            _ = try Self.receive(line + body, chunk: 4, into: .memory(limit: 5))
        }
    }

    /// An agent (an older one, or a lying host) announcing a 2xx body longer than the request's
    /// maximum is refused at its head, in both modes: nothing of the body reaches the destination.
    @Test(arguments: [AgentProtocol.Mode.stream, .hash])
    func aReplyAnnouncingMoreThanTheMaximumIsRefusedAtItsHead(mode: AgentProtocol.Mode) throws {
        let folder = try TemporaryDirectory(prefix: "agent-limit")
        let path = folder.file("blob.part")
        let body = Data(repeating: 7, count: 5000)
        let request = HTTPRequest(url: "https://registry.test/x", maximumBodyLength: 4999)
        let stream = try AgentProtocol.line(Self.head(body: body)) + (mode == .stream ? body : Data())
        let error = #expect(throws: TransportError.self) {
            _ = try Self.receive(stream, chunk: 1000, into: mode == .stream ? .file(path: path) : .discard, request: request)
        }
        #expect(error?.kind == .bodyTooLarge)
        #expect(error?.detail.contains("announced 5000 bytes, more than the 4999 bytes expected") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: path))
        // Exactly the maximum is fine.
        let fits = try Self.receive(stream, chunk: 1000, into: .memory(limit: 1 << 20), request: HTTPRequest(url: "https://registry.test/x", maximumBodyLength: 5000))
        #expect(fits.head?.bodyLength == 5000)
    }

    @Test func errorHeadsBecomeTransportErrorsOfTheirKind() throws {
        let line = try AgentProtocol.line(AgentProtocol.ReplyHead(error: "tls", detail: "certificate has expired"))
        let receiver = try Self.receive(line, chunk: 10, into: .memory(limit: 100))
        do {
            _ = try SSHAgentTransport.response(Self.exec(), receiver: receiver, mode: .stream, route: "ssh://u@h:22", shownURL: "https://r/")
            Issue.record("an error head was accepted")
        } catch let error as TransportError {
            #expect(error.kind == .tls)
            #expect(error.detail.contains("certificate has expired"))
            #expect(error.url == "https://r/")
        }
    }

    @Test func aMissingAgentSaysToInstall3tofu() throws {
        let receiver = AgentReplyReceiver(request: HTTPRequest(url: "u"), destination: .discard, shownURL: "u", route: "ssh://u@h:22")
        do {
            _ = try SSHAgentTransport.response(Self.exec(status: 127, stderr: "sh: 1: 3tofu: not found\n"), receiver: receiver, mode: .hash, route: "ssh://u@h:22", shownURL: "u")
            Issue.record("a missing agent was not reported")
        } catch let error as SSHError {
            #expect(error.kind == .remote)
            #expect(error.message.contains("install 3tofu there"), "\(error.message)")
            #expect(error.message.contains("3tofu: not found"), "\(error.message)")
        }
    }

    @Test(arguments: [
        "{\"protocol\":\"3tofu-agent/2\",\"status\":200,\"headers\":[],\"bodyLength\":0,\"bodySHA256\":\"\"}",
        "{\"protocol\":\"3tofu-agent/1\",\"headers\":[],\"bodyLength\":0,\"bodySHA256\":\"\"}",
        "{\"protocol\":\"3tofu-agent/1\",\"status\":200,\"headers\":[],\"bodyLength\":-1,\"bodySHA256\":\"\"}",
        "HTTP/1.1 200 OK",
    ])
    func unreadableReplyHeadsAreRefused(line: String) {
        #expect(throws: SSHError.self) { _ = try AgentProtocol.decodeReplyHead(Data(line.utf8)) }
    }
}

/// Collects what the agent writes (the test runs it on one task).
final class AgentOutputCollector: @unchecked Sendable {
    var data = Data()
}
