import Crypto
import Foundation

/// Which host key algorithms a known_hosts file lists for a host, so the handshake asks for a
/// key the file can vouch for (as OpenSSH does). Plain and hashed (`|1|salt|hash`) names;
/// `@revoked`/`@cert-authority` lines and negated patterns are skipped. Only a preference:
/// the key itself is then checked by libssh2 against the same file.
enum KnownHostsFile {
    static func keyAlgorithms(in text: String, host: String, port: Int) -> [String] {
        let name = port == 22 ? host : "[\(host)]:\(port)"
        var algorithms: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 3, !fields[0].hasPrefix("#"), !fields[0].hasPrefix("@") else { continue }
            guard matches(String(fields[0]), name: name) else { continue }
            let algorithm = String(fields[1])
            if !algorithms.contains(algorithm) { algorithms.append(algorithm) }
        }
        return algorithms
    }

    static func matches(_ pattern: String, name: String) -> Bool {
        if pattern.hasPrefix("|1|") {
            let parts = pattern.split(separator: "|", omittingEmptySubsequences: true)
            guard parts.count == 3, let salt = Data(base64Encoded: String(parts[1])), let hash = Data(base64Encoded: String(parts[2])) else { return false }
            let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
            return Data(mac) == hash
        }
        return pattern.split(separator: ",").contains { $0.lowercased() == name.lowercased() }
    }

    /// libssh2 method names for the key algorithms, in the file's order (RSA keys may sign with SHA-2).
    static func hostKeyMethods(for algorithms: [String]) -> [String] {
        algorithms.flatMap { algorithm -> [String] in
            algorithm == "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [algorithm]
        }
    }
}
