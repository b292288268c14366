import Foundation
import Transport

/// After the remote curl failed to verify a server's certificate (`agent = "curl"`), the script
/// records what the server showed with `openssl s_client -showcerts` on the remote, its stdin
/// empty, so the connection carries the handshake and nothing else (no HTTP request, no header,
/// no credential). This is what 3tofu tells it (where to connect) and what it reads back (the
/// chain's lines). Pure.
enum ShownChain {
    /// The request line's last field for `url`: `HOST:PORT,SNI` (SNI `-` for an address, which
    /// TLS does not name), or nil when the URL is not https or its host is not a plain name or
    /// address. Only these characters reach the remote's `openssl` arguments.
    static func target(url: String) -> String? {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "https",
              var host = components.host, !host.isEmpty
        else { return nil }
        let port = components.port ?? 443
        guard (1...65535).contains(port) else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.contains(":") {
            // An IPv6 address: hex digits, colons and dots only (no zone).
            guard host.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") }) else { return nil }
            return "[\(host)]:\(port),-"
        }
        let lowered = host.lowercased()
        guard lowered.count <= 253, !lowered.hasPrefix("-"), !lowered.hasPrefix("."),
              lowered.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") })
        else { return nil }
        let isAddress = lowered.allSatisfy { $0.isNumber || $0 == "." }
        return "\(lowered):\(port),\(isAddress ? "-" : lowered)"
    }

    /// The certificates in `s_client -showcerts` output's "Certificate chain" section, leaf first:
    /// each PEM block with the `s:` (subject), `i:` (issuer) and `v:NotBefore: …; NotAfter: …`
    /// lines printed above it (OpenSSL 3; older versions print no validity).
    static func certificates(in lines: [String]) -> [ShownCertificate] {
        var shown: [ShownCertificate] = []
        var subject: String?, issuer: String?, notBefore: String?, notAfter: String?
        var pem: [String]?
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line == "-----BEGIN CERTIFICATE-----" {
                pem = []
            } else if line == "-----END CERTIFICATE-----" {
                if let body = pem, let der = Data(base64Encoded: body.joined()), !der.isEmpty {
                    shown.append(ShownCertificate(der: der, subject: subject, issuer: issuer, notBefore: notBefore, notAfter: notAfter))
                }
                pem = nil
                (subject, issuer, notBefore, notAfter) = (nil, nil, nil, nil)
            } else if pem != nil {
                pem?.append(line)
            } else if let value = field(line, "s:") {
                // " 0 s:CN = …": a new certificate's lines begin.
                (subject, issuer, notBefore, notAfter) = (value, nil, nil, nil)
            } else if let value = field(line, "i:") {
                issuer = value
            } else if let value = field(line, "v:") {
                for part in value.split(separator: ";") {
                    let pair = part.trimmingCharacters(in: .whitespaces)
                    if pair.hasPrefix("NotBefore:") { notBefore = pair.dropFirst("NotBefore:".count).trimmingCharacters(in: .whitespaces) }
                    if pair.hasPrefix("NotAfter:") { notAfter = pair.dropFirst("NotAfter:".count).trimmingCharacters(in: .whitespaces) }
                }
            }
        }
        return shown
    }

    /// The value of a `s_client` chain line `N s:…` / `s:…` (the index is optional).
    private static func field(_ line: String, _ tag: String) -> String? {
        var rest = Substring(line)
        while let first = rest.first, first.isNumber { rest = rest.dropFirst() }
        rest = rest.drop { $0 == " " }
        guard rest.hasPrefix(tag) else { return nil }
        return String(rest.dropFirst(tag.count))
    }
}
