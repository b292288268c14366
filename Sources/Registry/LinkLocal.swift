import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pure: does a URL's host name a link-local address (169.254.0.0/16, fe80::/10) literally?
///
/// Link-local addresses belong to the machine's own network segment: cloud metadata services
/// (169.254.169.254) and other machine-local services answer there. The host
/// is read the way curl and `inet_aton` read it, so every spelling of such an address counts:
/// dotted, with fewer parts (`169.254.43518`), in hex or octal (`0xa9fea9fe`, `0251.0376.0.1`),
/// percent-encoded, with a trailing dot, and as IPv6 that carries an IPv4 address
/// (`::ffff:169.254.169.254`, `::169.254.169.254`, `64:ff9b::169.254.169.254`). A host name that
/// a resolver maps to such an address is not seen here.
public enum LinkLocal {
    /// The link-local address `host` names, written plainly (`169.254.169.254`, `fe80::1`, or
    /// `IPv4 169.254.1.1` for one carried in IPv6), or nil when it names none.
    public static func address(inHost host: String) -> String? {
        var text = host.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.contains(":") {
            // IPv6; a zone (`%eth0`, `%25eth0`) does not change the address.
            let address = String(text.prefix { $0 != "%" })
            guard let bytes = ipv6(address) else { return nil }
            if bytes[0] == 0xfe, bytes[1] & 0xc0 == 0x80 { return address }
            if let embedded = embeddedIPv4(bytes), isLinkLocal(ipv4: embedded) {
                return "IPv4 \(embedded.map(String.init).joined(separator: "."))"
            }
            return nil
        }
        text = text.removingPercentEncoding ?? text
        if text.hasSuffix(".") { text.removeLast() }
        guard let bytes = ipv4(text), isLinkLocal(ipv4: bytes) else { return nil }
        return bytes.map(String.init).joined(separator: ".")
    }

    static func isLinkLocal(ipv4 bytes: [UInt8]) -> Bool {
        bytes.count == 4 && bytes[0] == 169 && bytes[1] == 254
    }

    /// The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`), IPv4-compatible (`::/96`) or
    /// NAT64 (`64:ff9b::/96`) IPv6 address.
    static func embeddedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        let prefix = Array(bytes[0..<12])
        let mapped = Array(repeating: UInt8(0), count: 10) + [0xff, 0xff]
        let compatible = Array(repeating: UInt8(0), count: 12)
        let nat64: [UInt8] = [0x00, 0x64, 0xff, 0x9b] + Array(repeating: 0, count: 8)
        guard prefix == mapped || prefix == compatible || prefix == nat64 else { return nil }
        return Array(bytes[12..<16])
    }

    /// An IPv4 address as `inet_aton` and curl read it: one to four parts, each decimal, octal
    /// (leading 0) or hex (leading 0x); the last part fills the remaining bytes.
    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = number(part) else { return nil }
            values.append(value)
        }
        let leading = values.dropLast()
        guard let last = values.last, leading.allSatisfy({ $0 < 256 }) else { return nil }
        let remaining = 4 - leading.count
        guard last < (UInt64(1) << (8 * UInt64(remaining))) else { return nil }
        var bytes = leading.map { UInt8($0) }
        for shift in stride(from: 8 * (remaining - 1), through: 0, by: -8) {
            bytes.append(UInt8((last >> UInt64(shift)) & 0xff))
        }
        return bytes
    }

    static func number(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.count <= 32 else { return nil }
        if part.hasPrefix("0x") {
            let digits = part.dropFirst(2)
            return digits.isEmpty ? 0 : UInt64(digits, radix: 16)
        }
        if part.count > 1, part.hasPrefix("0") { return UInt64(part.dropFirst(), radix: 8) }
        return UInt64(part, radix: 10)
    }

    static func ipv6(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}
