import Crypto
import Foundation
import Transport

/// The remote side of `agent = "3tofu"`: what `3tofu agent` does with each request. It performs the
/// exchange with its own direct `CurlTransport` (system CAs plus the request's `caPEM`) and writes
/// the reply (docs/AGENT-PROTOCOL.md). Bodies in mode `stream` are received completely (in memory,
/// or in a temporary file that is removed afterwards) before the head line is written, so the head
/// can announce their exact length and SHA-256.
public enum RemoteAgent {
    /// What `3tofu agent` writes to stderr as each request arrives.
    public static let acknowledgement = Data("3tofu-agent: request received\n".utf8)

    /// Exit status after a reply (a response or a transport error) was written.
    public static let exitReplied: Int32 = 0
    /// Exit status after a request the agent could not read (an error head with kind `badRequest`).
    public static let exitBadRequest: Int32 = 2
    /// Exit status when the reply could not be written (stdout closed).
    public static let exitOutputFailed: Int32 = 3

    /// Serves request after request, each one line of the agent's stdin (`read` returns the next
    /// piece of stdin, or nil at its end), until stdin ends (0), a request cannot be read (2: the
    /// framing may be lost, so the agent stops after its error reply) or stdout breaks (3). A
    /// stdin that ends before any request is answered as an empty request (2). `acknowledge` is
    /// called as each request line arrives (the command writes `acknowledgement` to stderr, so
    /// 3tofu knows an agent that dies later died serving it, not idle).
    public static func serveAll(read: () throws -> Data?, acknowledge: () -> Void = {}, output: (Data) throws -> Void) async -> Int32 {
        var lines = RequestLines()
        var served = 0
        while true {
            let line: Data?
            do {
                line = try lines.next(read: read)
            } catch {
                return exitOutputFailed
            }
            guard let line else { break }
            acknowledge()
            served += 1
            let status = await serve(line, output: output)
            if status != exitReplied { return status }
        }
        return served == 0 ? await serve(Data(), output: output) : exitReplied
    }

    /// Splits stdin into request lines. A line longer than `AgentProtocol.maximumRequestSize` is
    /// returned as it is (without waiting for its end), so that it is refused as too large.
    struct RequestLines {
        private var buffer = Data()
        private var ended = false

        mutating func next(read: () throws -> Data?) throws -> Data? {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Data(buffer[buffer.startIndex...newline])
                    buffer = Data(buffer[(newline + 1)...])
                    return line
                }
                if buffer.count > AgentProtocol.maximumRequestSize || (ended && !buffer.isEmpty) {
                    defer { buffer = Data() }
                    return buffer
                }
                if ended { return nil }
                if let chunk = try read(), !chunk.isEmpty {
                    buffer.append(chunk)
                } else {
                    ended = true
                }
            }
        }
    }

    /// Serves one request read from `input` (one request line); `output` writes to stdout.
    public static func serve(_ input: Data, output: (Data) throws -> Void) async -> Int32 {
        do {
            let request: AgentProtocol.Request
            let httpRequest: HTTPRequest
            do {
                request = try AgentProtocol.decodeRequest(input)
                httpRequest = try request.httpRequest()
            } catch {
                try output(AgentProtocol.line(AgentProtocol.ReplyHead(error: "badRequest", detail: String(describing: error))))
                return exitBadRequest
            }
            try await perform(request, httpRequest, output: output)
            return exitReplied
        } catch {
            return exitOutputFailed
        }
    }

    private static func perform(_ request: AgentProtocol.Request, _ httpRequest: HTTPRequest, output: (Data) throws -> Void) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("3tofu-agent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let reply: (head: AgentProtocol.ReplyHead, body: Data?, bodyFile: String?)
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            var configuration = TransportConfiguration(proxy: nil, maxParallelTransfers: 1)
            if let timeout = request.connectTimeout, timeout > 0, timeout.isFinite { configuration.connectTimeout = timeout }
            if let pem = request.caPEM, !pem.isEmpty {
                let path = scratch.appendingPathComponent("ca.pem").path
                try Data(pem.utf8).write(to: URL(fileURLWithPath: path))
                configuration.extraCACertificatesPath = path
            }
            let transport = try CurlTransport(configuration: configuration)
            reply = try await exchange(request, httpRequest, transport: transport, bodyFile: scratch.appendingPathComponent("body").path)
        } catch let error as TransportError {
            // What it saw goes back with the error (a failed verification's shown chain included).
            try output(AgentProtocol.line(AgentProtocol.ReplyHead(error: error.kind.rawValue, detail: error.detail, evidence: error.evidence)))
            return
        } catch {
            try output(AgentProtocol.line(AgentProtocol.ReplyHead(error: TransportError.Kind.other.rawValue, detail: String(describing: error))))
            return
        }
        try output(AgentProtocol.line(reply.head))
        if let body = reply.body, !body.isEmpty { try output(body) }
        if let path = reply.bodyFile {
            guard let handle = FileHandle(forReadingAtPath: path) else { return }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try output(chunk)
            }
        }
    }

    private static func exchange(
        _ request: AgentProtocol.Request, _ httpRequest: HTTPRequest, transport: CurlTransport, bodyFile: String
    ) async throws -> (head: AgentProtocol.ReplyHead, body: Data?, bodyFile: String?) {
        switch request.mode {
        case .hash:
            let response = try await transport.perform(httpRequest, into: .discard)
            return (head(response, length: response.bodyLength, sha256: response.bodySHA256), nil, nil)
        case .stream:
            if let limit = request.memoryLimit {
                let response = try await transport.perform(httpRequest, into: .memory(limit: limit))
                return (head(response, length: Int64(response.body.count), sha256: response.bodySHA256), response.body, nil)
            }
            let response = try await transport.perform(httpRequest, into: .file(path: bodyFile))
            if (200...299).contains(response.status) {
                // The file was empty, so it holds exactly the bytes of this exchange (a 206 is appended to nothing).
                return (head(response, length: response.bodyLength, sha256: response.bodySHA256), nil, FileManager.default.fileExists(atPath: bodyFile) ? bodyFile : nil)
            }
            // A non-2xx body went to memory, capped: announce what is sent.
            return (head(response, length: Int64(response.body.count), sha256: sha256Hex(response.body)), response.body, nil)
        }
    }

    private static func head(_ response: HTTPResponse, length: Int64, sha256: String) -> AgentProtocol.ReplyHead {
        AgentProtocol.ReplyHead(status: response.status, headers: response.headers, bodyLength: length, bodySHA256: sha256, evidence: response.evidence)
    }

    private static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
