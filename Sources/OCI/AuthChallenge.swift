/// One challenge from a `WWW-Authenticate` header (RFC 7235), e.g.
/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`.
public struct AuthChallenge: Sendable, Equatable {
    /// The scheme, lowercased: `bearer`, `basic`, …
    public var scheme: String
    /// Parameters with lowercased names and unescaped values.
    public var parameters: [String: String]
    /// The token68 form (`Negotiate abc==`), when the challenge uses it instead of parameters.
    public var token68: String?

    /// Headers longer than this are refused rather than parsed.
    public static let maximumHeaderLength = 16 * 1024

    public init(scheme: String, parameters: [String: String] = [:], token68: String? = nil) {
        self.scheme = scheme.lowercased()
        self.parameters = Dictionary(parameters.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.token68 = token68
    }

    /// The value of parameter `name`, compared case-insensitively.
    public func parameter(_ name: String) -> String? {
        parameters[name.lowercased()]
    }

    public var realm: String? { parameter("realm") }

    /// Every challenge in one header value, in order.
    public static func parse(_ header: String) throws -> [AuthChallenge] {
        let length = header.utf8.count
        guard length <= maximumHeaderLength else {
            throw OCIError(
                .invalidChallenge,
                "WWW-Authenticate header is \(length) bytes, more than the \(maximumHeaderLength) accepted; the registry or a proxy on this route sent something that is not a normal challenge"
            )
        }
        var parser = ChallengeParser(header: header)
        return try parser.parseAll()
    }
}

/// A scanner over the header's bytes; all delimiters are ASCII, so other bytes pass through.
private struct ChallengeParser {
    let header: String
    let bytes: [UInt8]
    var index = 0

    init(header: String) {
        self.header = header
        self.bytes = Array(header.utf8)
    }

    private static let comma = UInt8(ascii: ",")
    private static let equals = UInt8(ascii: "=")
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    var atEnd: Bool { index >= bytes.count }
    var current: UInt8? { atEnd ? nil : bytes[index] }

    func failure(_ what: String) -> OCIError {
        OCIError(
            .invalidChallenge,
            "WWW-Authenticate header \"\(printablePreview(bytes, limit: 120))\" is malformed: \(what); "
                + "the registry or a proxy on this route sent a broken challenge"
        )
    }

    var found: String {
        guard let current else { return "the end" }
        return "\"\(printablePreview([current], limit: 1))\""
    }

    mutating func parseAll() throws -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        skipListSeparators()
        guard !atEnd else { throw failure("it holds no challenge") }
        while !atEnd {
            challenges.append(try parseChallenge())
            skipSpaces()
            if atEnd { break }
            guard current == Self.comma else {
                throw failure("expected ',' between challenges at offset \(index) but found \(found)")
            }
            skipListSeparators()
        }
        return challenges
    }

    private mutating func parseChallenge() throws -> AuthChallenge {
        let scheme = readToken()
        guard !scheme.isEmpty else {
            throw failure("expected an authentication scheme at offset \(index) but found \(found)")
        }
        var challenge = AuthChallenge(scheme: scheme)
        let spaces = skipSpaces()
        if atEnd || current == Self.comma {
            return challenge
        }
        guard spaces > 0 else {
            throw failure("expected a space after scheme \"\(scheme)\" at offset \(index) but found \(found)")
        }
        if let (name, value) = try parseParameter() {
            try add(name, value, to: &challenge)
            while true {
                skipSpaces()
                if atEnd { break }
                guard current == Self.comma else {
                    throw failure("expected ',' after parameter \"\(name)\" at offset \(index) but found \(found)")
                }
                let beforeComma = index
                skipListSeparators()
                if atEnd { break }
                guard let (nextName, nextValue) = try parseParameter() else {
                    index = beforeComma
                    break
                }
                try add(nextName, nextValue, to: &challenge)
            }
        } else if let token68 = parseToken68() {
            challenge.token68 = token68
        } else {
            throw failure("expected parameters (name=value) or a token68 after scheme \"\(scheme)\" at offset \(index) but found \(found)")
        }
        return challenge
    }

    private func add(_ name: String, _ value: String, to challenge: inout AuthChallenge) throws {
        let key = name.lowercased()
        guard challenge.parameters[key] == nil else {
            throw failure("parameter \"\(key)\" appears twice in the \(challenge.scheme) challenge")
        }
        challenge.parameters[key] = value
    }

    /// `token BWS "=" BWS ( token / quoted-string )`; nil (and nothing consumed) when the text
    /// here is not a parameter. Throws on a broken quoted string.
    private mutating func parseParameter() throws -> (String, String)? {
        let start = index
        let name = readToken()
        guard !name.isEmpty else { index = start; return nil }
        skipSpaces()
        guard current == Self.equals else { index = start; return nil }
        index += 1
        skipSpaces()
        if current == Self.quote {
            return (name, try readQuotedString())
        }
        let value = readToken()
        guard !value.isEmpty else { index = start; return nil }
        return (name, value)
    }

    /// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`, ending the challenge.
    private mutating func parseToken68() -> String? {
        let start = index
        while let byte = current, isASCIIAlphanumeric(byte) || "-._~+/".utf8.contains(byte) { index += 1 }
        guard index > start else { return nil }
        while current == Self.equals { index += 1 }
        let end = index
        skipSpaces()
        guard atEnd || current == Self.comma else { index = start; return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func readQuotedString() throws -> String {
        let opening = index
        index += 1
        var value: [UInt8] = []
        while true {
            guard let byte = current else {
                throw failure("the quoted string starting at offset \(opening) is never closed")
            }
            index += 1
            switch byte {
            case Self.quote:
                return String(decoding: value, as: UTF8.self)
            case Self.backslash:
                guard let escaped = current else {
                    throw failure("the quoted string starting at offset \(opening) ends in a lone backslash and is never closed")
                }
                guard !Self.isControl(escaped) else {
                    throw failure("the quoted string starting at offset \(opening) escapes a control character")
                }
                value.append(escaped)
                index += 1
            default:
                guard !Self.isControl(byte) else {
                    throw failure("the quoted string starting at offset \(opening) contains a control character at offset \(index - 1)")
                }
                value.append(byte)
            }
        }
    }

    private mutating func readToken() -> String {
        let start = index
        while let byte = current, Self.isTokenCharacter(byte) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    @discardableResult
    private mutating func skipSpaces() -> Int {
        let start = index
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { index += 1 }
        return index - start
    }

    /// Optional whitespace and empty list elements (`, ,`), as `1#element` allows.
    private mutating func skipListSeparators() {
        while current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") || current == Self.comma { index += 1 }
    }

    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        isASCIIAlphanumeric(byte) || "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    /// CTLs other than HTAB, which RFC 7230 allows inside quoted strings.
    private static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09) || byte == 0x7F
    }
}
