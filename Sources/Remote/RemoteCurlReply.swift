import Crypto
import Foundation
import Transport

/// Reads what `RemoteCurlScript` prints: the response head on stdout (ahead of the body), and the
/// trailer lines on stderr. Pure parsing, no I/O.
enum RemoteCurlReply {
    /// The final (non-1xx) response head.
    struct Head: Equatable {
        var status: Int
        var headers: HTTPHeaders
    }

    struct ParseError: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// Splits stdout into header blocks and body. Interim (1xx) blocks are skipped, up to
    /// `maximumInterimResponses` of them; the body is whatever follows the blank line that ends
    /// the final block.
    struct HeadParser {
        static let maximumHeadSize = 1024 * 1024
        /// More interim responses than any real exchange has (one 100 Continue, a few 103 Early
        /// Hints): past this the remote is stalling, not answering.
        static let maximumInterimResponses = 20
        private var buffer = Data()
        private(set) var head: Head?
        private var interimResponses = 0

        /// Feeds stdout bytes; returns the part of them that belongs to the body.
        mutating func feed(_ bytes: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer {
            if head != nil { return bytes }
            buffer.append(contentsOf: bytes)
            while head == nil, let end = Self.blockEnd(in: buffer) {
                let block = buffer[buffer.startIndex..<end.blockEnd]
                let parsed = try Self.parseBlock(block)
                buffer.removeSubrange(buffer.startIndex..<end.bodyStart)
                if !(100...199).contains(parsed.status) {
                    head = parsed
                } else {
                    interimResponses += 1
                    guard interimResponses <= Self.maximumInterimResponses else {
                        throw ParseError(description: "the remote sent more than \(Self.maximumInterimResponses) interim (1xx) responses and no final one; it is stalling, not answering")
                    }
                }
            }
            if head != nil {
                // The body starts at what is left in the buffer: its tail came from this call's bytes.
                let leftover = buffer.count
                buffer = Data()
                let consumedOfThisCall = bytes.count - leftover
                return UnsafeRawBufferPointer(rebasing: bytes[consumedOfThisCall...])
            }
            guard buffer.count <= Self.maximumHeadSize else {
                throw ParseError(description: "the response headers are larger than 1 MiB")
            }
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }

        /// The index after a header block's last line, and where the next thing starts.
        static func blockEnd(in data: Data) -> (blockEnd: Data.Index, bodyStart: Data.Index)? {
            var lineStart = data.startIndex
            var index = data.startIndex
            while index < data.endIndex {
                if data[index] == UInt8(ascii: "\n") {
                    let length = index - lineStart
                    let isBlank = length == 0 || (length == 1 && data[lineStart] == UInt8(ascii: "\r"))
                    if isBlank, lineStart > data.startIndex {
                        return (lineStart, index + 1)
                    }
                    lineStart = index + 1
                }
                index += 1
            }
            return nil
        }

        static func parseBlock(_ block: Data) throws -> Head {
            var lines = RemoteCurlReply.lines(block)
            while lines.last == "" { lines.removeLast() }
            guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/") else {
                throw ParseError(description: "the remote curl printed no HTTP status line")
            }
            let parts = statusLine.split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, let status = Int(parts[1]), (100...999).contains(status) else {
                throw ParseError(description: "the remote curl printed an unreadable status line")
            }
            var headers = HTTPHeaders()
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, !line.hasPrefix(" "), !line.hasPrefix("\t") else { continue }
                let name = String(line[..<colon])
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers.append(name: name, value: value)
            }
            return Head(status: status, headers: headers)
        }
    }

    /// The stderr lines the script and curl's `--write-out` leave.
    struct Trailer: Equatable {
        var values: [String: String] = [:]
        /// Mode `hash`: the body's SHA-256 as computed on the remote.
        var sha256: String?
        /// curl's exit status; nil when the script never got that far.
        var curlExit: Int32?
        /// `3tofu-error` messages (setup failures of the script).
        var scriptErrors: [String] = []
        /// The last `curl: (N) …` message.
        var curlMessage: String?
        /// DER certificates curl reported (`%{certs}`), leaf first.
        var certificates: [Data] = []
        /// After a failed verification (curl 60): the chain `openssl s_client` was shown on the
        /// remote (nil when it did not run), or why it could not be recorded.
        var shown: [ShownCertificate]?
        var shownNotRecorded: String?

        static func parse(_ data: Data) -> Trailer {
            var trailer = Trailer()
            var inCertificates = false
            var pemLines: [String]?
            var shownLines: [String]?
            for line in RemoteCurlReply.lines(data) where !line.isEmpty {
                if line == "3tofu-shown-begin" { shownLines = []; continue }
                if line == "3tofu-shown-end", let lines = shownLines {
                    let chain = ShownChain.certificates(in: lines)
                    trailer.shown = chain
                    if chain.isEmpty { trailer.shownNotRecorded = "openssl s_client on the remote host was shown no certificate" }
                    shownLines = nil
                    continue
                }
                if shownLines != nil {
                    // The chain's lines as openssl printed them: nothing else is read from them.
                    shownLines?.append(line)
                    continue
                }
                if line.hasPrefix("3tofu-shown-none ") {
                    trailer.shownNotRecorded = ShownCertificate.printable(String(line.dropFirst("3tofu-shown-none ".count)))
                    continue
                }
                if line == "3tofu-w certs-begin" { inCertificates = true; continue }
                if line == "3tofu-w certs-end" { inCertificates = false; continue }
                if inCertificates {
                    // Lines look like "Cert:-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----".
                    if line.contains("-----BEGIN CERTIFICATE-----") {
                        pemLines = []
                    } else if line.contains("-----END CERTIFICATE-----") {
                        if let body = pemLines, let der = Data(base64Encoded: body.joined()) { trailer.certificates.append(der) }
                        pemLines = nil
                    } else if pemLines != nil {
                        pemLines?.append(line.trimmingCharacters(in: .whitespaces))
                    }
                    continue
                }
                if line.hasPrefix("3tofu-w ") {
                    let rest = line.dropFirst("3tofu-w ".count)
                    let pair = rest.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                    if let name = pair.first { trailer.values[String(name)] = pair.count > 1 ? String(pair[1]) : "" }
                } else if line.hasPrefix("3tofu-sha256 ") {
                    let hex = line.dropFirst("3tofu-sha256 ".count).lowercased()
                    if hex.count == 64, hex.allSatisfy(\.isHexDigit) { trailer.sha256 = hex }
                } else if line.hasPrefix("3tofu-exit ") {
                    trailer.curlExit = Int32(line.dropFirst("3tofu-exit ".count))
                } else if line.hasPrefix("3tofu-error ") {
                    trailer.scriptErrors.append(String(line.dropFirst("3tofu-error ".count)))
                } else if line.hasPrefix("curl: ") {
                    trailer.curlMessage = String(line.dropFirst("curl: ".count))
                }
            }
            return trailer
        }

        /// What curl reported about the connection, as transport evidence.
        func evidence(headers: HTTPHeaders) -> TransportEvidence {
            func seconds(_ name: String) -> Double { values[name].flatMap(Double.init) ?? 0 }
            return TransportEvidence(
                remoteIP: values["remote_ip"].flatMap { $0.isEmpty ? nil : $0 },
                effectiveURL: values["url_effective"].flatMap { $0.isEmpty ? nil : URLRedaction.removingUserInfo($0) },
                certificateSHA256: certificates.map { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() },
                httpVersion: values["http_version"].flatMap(Self.httpVersion),
                timings: TransportEvidence.Timings(
                    nameLookup: seconds("time_namelookup"), connect: seconds("time_connect"), tlsHandshake: seconds("time_appconnect"),
                    firstByte: seconds("time_starttransfer"), total: seconds("time_total")),
                rateLimit: TransportEvidence.rateLimitFields(in: headers))
                .withShown(shown.flatMap { $0.isEmpty ? nil : $0 }, notRecorded: shownNotRecorded)
        }

        static func httpVersion(_ value: String) -> String? {
            switch value {
            case "1", "1.0": "1.0"
            case "1.1": "1.1"
            case "2", "2.0": "2"
            case "3", "3.0": "3"
            default: nil
            }
        }
    }

    /// Lines split at LF bytes, a trailing CR removed (a String would keep "\r\n" as one character).
    static func lines(_ data: Data) -> [String] {
        data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            return String(decoding: trimmed, as: UTF8.self)
        }
    }

    /// The `TransportError` kind for a curl exit status.
    static func errorKind(curlExit code: Int32) -> TransportError.Kind {
        switch code {
        case 1: .unsupportedScheme
        case 3: .badURL
        case 5, 97: .proxy
        case 6: .dns
        case 7: .connect
        case 28: .timeout
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: .tls
        case 63: .bodyTooLarge
        case 23: .io
        default: .other
        }
    }
}
