import CCurl
import Crypto
import Foundation

/// SHA-256 fingerprints of the certificates libcurl reports through `CURLINFO_CERTINFO`.
enum CertificateFingerprints {
    /// Leaf first; empty when the transfer did no TLS handshake.
    static func read(from handle: UnsafeMutableRawPointer) -> [String] {
        fields(from: handle).compactMap { fields in
            fields.first { $0.hasPrefix("Cert:") }.flatMap { der(fromPEM: String($0.dropFirst("Cert:".count))) }.map(sha256Hex)
        }
    }

    /// Each certificate of the last handshake's chain as libcurl's `Name:value` fields, leaf first.
    static func fields(from handle: UnsafeMutableRawPointer) -> [[String]] {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard tofu_getinfo_certinfo(handle, &info) == CURLE_OK, let info else { return [] }
        return (0..<tofu_certinfo_count(info)).map { index in
            var fields: [String] = []
            var node = tofu_certinfo_fields(info, index)
            while let current = node {
                if let data = current.pointee.data { fields.append(String(cString: data)) }
                node = UnsafePointer(current.pointee.next)
            }
            return fields
        }
    }

    /// The DER bytes inside a PEM `CERTIFICATE` block.
    static func der(fromPEM pem: String) -> Data? {
        let base64 = pem
            .split(whereSeparator: \.isNewline)
            .filter { !$0.hasPrefix("-----") }
            .joined()
            .filter { !$0.isWhitespace }
        guard !base64.isEmpty else { return nil }
        return Data(base64Encoded: base64)
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
