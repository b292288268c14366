import Foundation
import Transport

// libFuzzer target: the `3tofu-agent/1` wire format (Sources/Remote/AgentProtocol.swift), compiled
// into this harness, with Sources/Transport's HTTPTransport.swift, RequestValidation.swift and
// URLRedaction.swift as module Transport. Each input is read both ways:
//  - as the agent's whole stdin (`RemoteAgent.serve`): decodeRequest, then httpRequest(), then the
//    checks the local side runs on a request before it sends it; a refused request becomes a
//    `badRequest` error head that the local side must be able to read back;
//  - as the agent's stdout (`AgentReplyReceiver`): the bytes up to the first line feed are the reply
//    head line, decoded with decodeReplyHead and turned into headers and evidence as
//    `SSHAgentTransport.response` does.
// What decodes must encode again to one JSON line that decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAgent(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    agentSide(bytes)
    localSide(bytes)
    return 0
}

/// One JSON object and exactly one line feed, at the end.
private func checkIsOneLine(_ line: Data, _ what: String) {
    precondition(line.last == UInt8(ascii: "\n"), "\(what) does not end with a line feed")
    precondition(line.filter { $0 == UInt8(ascii: "\n") }.count == 1, "\(what) holds a raw line feed: \(String(decoding: line, as: UTF8.self))")
}

private func agentSide(_ input: Data) {
    let request: AgentProtocol.Request
    do {
        request = try AgentProtocol.decodeRequest(input)
        _ = try request.httpRequest()
    } catch {
        // RemoteAgent.serve answers with an error head carrying the failure's text.
        let head = AgentProtocol.ReplyHead(error: "badRequest", detail: String(describing: error))
        guard let line = try? AgentProtocol.line(head) else { preconditionFailure("a badRequest head cannot be encoded: \(error)") }
        checkIsOneLine(line, "a badRequest head")
        guard let back = try? AgentProtocol.decodeReplyHead(line.dropLast()) else {
            preconditionFailure("the local side cannot read a badRequest head: \(String(decoding: line, as: UTF8.self))")
        }
        precondition(back == head, "a badRequest head does not round-trip")
        return
    }
    guard let line = try? AgentProtocol.line(request) else { preconditionFailure("a decoded request cannot be encoded again") }
    checkIsOneLine(line, "a re-encoded request")
    guard let again = try? AgentProtocol.decodeRequest(line) else {
        preconditionFailure("a re-encoded request does not decode: \(String(decoding: line, as: UTF8.self))")
    }
    precondition(again == request, "a request does not round-trip: \(String(decoding: line, as: UTF8.self))")
    guard let http = try? request.httpRequest() else { preconditionFailure("httpRequest() failed after succeeding") }
    // What the local side checks before it writes a request (SSHAgentTransport.perform).
    if (try? RequestValidation.check(http)) != nil {
        let rebuilt = AgentProtocol.Request(http, mode: request.mode, memoryLimit: request.memoryLimit, caPEM: request.caPEM, connectTimeout: request.connectTimeout)
        precondition(rebuilt == request, "Request(HTTPRequest) does not give back the request it came from")
    }
    _ = URLRedaction.removingUserInfo(http.url)
}

private func localSide(_ stream: Data) {
    // AgentReplyReceiver: the head is everything before the first line feed.
    guard let newline = stream.firstIndex(of: UInt8(ascii: "\n")) else {
        _ = try? AgentProtocol.decodeReplyHead(stream)
        return
    }
    let headLine = stream[stream.startIndex..<newline]
    guard headLine.count <= AgentProtocol.maximumHeadSize, let head = try? AgentProtocol.decodeReplyHead(headLine) else { return }
    precondition(head.bodyLength >= 0 && (head.status != nil || head.error != nil))
    // SSHAgentTransport.response
    if let error = head.error {
        _ = TransportError.Kind(rawValue: error.kind)
    }
    let headers = head.httpHeaders
    precondition(headers.fields.count == head.headers.count)
    for field in head.headers {
        precondition(headers[field.name] != nil, "header \(field.name) is lost")
    }
    _ = headers.values("content-type")
    var evidence = head.evidence ?? TransportEvidence()
    evidence.effectiveURL = evidence.effectiveURL.map(URLRedaction.removingUserInfo)
    _ = head.bodySHA256.count == 64 && head.bodySHA256.allSatisfy(\.isHexDigit)
    // The agent writes heads with AgentProtocol.line; what the local side accepts must survive that.
    guard let line = try? AgentProtocol.line(head) else { preconditionFailure("a decoded reply head cannot be encoded again") }
    checkIsOneLine(line, "a re-encoded reply head")
    guard let again = try? AgentProtocol.decodeReplyHead(line.dropLast()) else {
        preconditionFailure("a re-encoded reply head does not decode: \(String(decoding: line, as: UTF8.self))")
    }
    precondition(again == head, "a reply head does not round-trip: \(String(decoding: line, as: UTF8.self))")
}
