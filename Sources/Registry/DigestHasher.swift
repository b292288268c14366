import Crypto
import Foundation
import OCI

/// Computes digests of bytes in memory or files on disk, in the digest's own algorithm.
public enum DigestHasher {
    public static func digest(of data: Data, algorithm: OCI.Digest.Algorithm) -> String {
        switch algorithm {
        case .sha256: SHA256.hash(data: data).hexString
        case .sha512: SHA512.hash(data: data).hexString
        }
    }
}

extension Sequence where Element == UInt8 {
    var hexString: String {
        var result = ""
        for byte in self {
            result += String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
        }
        return result
    }
}
