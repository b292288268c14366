import Crypto
import Foundation

/// The public key an SSH server presented, named as OpenSSH names it.
public struct HostKey: Sendable, Equatable {
    /// "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", …
    public var algorithm: String
    /// The key blob as sent in the handshake.
    public var blob: Data

    public init(algorithm: String, blob: Data) {
        self.algorithm = algorithm
        self.blob = blob
    }

    /// "SHA256:" + unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        Self.fingerprint(of: blob)
    }

    public static func fingerprint(of blob: Data) -> String {
        let digest = Data(SHA256.hash(data: blob)).base64EncodedString()
        return "SHA256:" + digest.replacingOccurrences(of: "=", with: "")
    }

    /// The OpenSSH algorithm name for a libssh2 `LIBSSH2_HOSTKEY_TYPE_*` value.
    static func algorithmName(libssh2Type type: Int32) -> String {
        switch type {
        case 1: "ssh-rsa"
        case 2: "ssh-dss"
        case 3: "ecdsa-sha2-nistp256"
        case 4: "ecdsa-sha2-nistp384"
        case 5: "ecdsa-sha2-nistp521"
        case 6: "ssh-ed25519"
        default: "unknown"
        }
    }
}
