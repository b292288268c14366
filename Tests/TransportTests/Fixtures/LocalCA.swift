import Foundation

/// A throwaway certificate authority and one server certificate made with the openssl CLI.
struct LocalCA: Sendable {
    let folder: TemporaryFolder
    var caCertificate: String { folder.path("ca.pem") }
    var leafCertificate: String { folder.path("leaf.pem") }
    var leafKey: String { folder.path("leaf.key") }
    /// Leaf then CA, as the server presents them.
    var chain: String { folder.path("chain.pem") }

    /// Makes a CA and a leaf for 127.0.0.1, localhost and `extraNames`.
    init(extraNames: [String] = []) throws {
        folder = try TemporaryFolder()
        let dir = folder.root
        let names = (["DNS:localhost", "IP:127.0.0.1"] + extraNames.map { "DNS:\($0)" }).joined(separator: ",")
        try "subjectAltName=\(names)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: folder.path("leaf.ext"), atomically: true, encoding: .utf8)
        _ = try Subprocess.shell("""
            cd '\(dir)' && \
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
              -days 2 -subj '/CN=3tofu transport test CA' -addext basicConstraints=critical,CA:TRUE \
              -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null && \
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout leaf.key -out leaf.csr \
              -subj '/CN=localhost' 2>/dev/null && \
            openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 \
              -extfile leaf.ext 2>/dev/null && \
            cat leaf.pem ca.pem > chain.pem
            """)
    }

    /// `openssl x509 -outform DER | sha256sum` of a PEM certificate.
    static func fingerprint(of pem: String) throws -> String {
        String(try Subprocess.shell("openssl x509 -in '\(pem)' -outform DER | sha256sum").prefix(64))
    }

    func remove() { folder.remove() }
}
