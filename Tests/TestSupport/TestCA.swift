import Foundation

/// A throwaway certificate authority made with `openssl`, with a server certificate for
/// 127.0.0.1 and localhost. A second instance makes a handy rogue CA.
public final class TestCA: Sendable {
    /// A certificate and key signed by this CA.
    public struct ServerCertificate: Sendable {
        public let certPath: String
        public let keyPath: String
        /// Lower-case hex SHA-256 of the certificate's DER encoding.
        public let sha256Fingerprint: String
    }

    public let directory: TemporaryDirectory
    public let caCertPath: String
    public let caKeyPath: String
    public let serverCertPath: String
    public let serverKeyPath: String
    /// Lower-case hex SHA-256 of the server (leaf) certificate's DER encoding.
    public let leafSHA256Fingerprint: String

    /// Makes the CA key and certificate, then a server certificate for IP:127.0.0.1 and DNS:localhost.
    public init(commonName: String = "3tofu Test CA") throws {
        directory = try TemporaryDirectory(prefix: "ca")
        caCertPath = directory.file("ca.pem")
        caKeyPath = directory.file("ca-key.pem")
        try Shell.check([
            "openssl", "req", "-x509", "-new", "-nodes",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", caKeyPath, "-out", caCertPath, "-days", "30",
            "-subj", "/CN=\(commonName)",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        let server = try Self.issue(
            names: ["127.0.0.1", "localhost"], stem: "server",
            directory: directory, caCertPath: caCertPath, caKeyPath: caKeyPath
        )
        serverCertPath = server.certPath
        serverKeyPath = server.keyPath
        leafSHA256Fingerprint = server.sha256Fingerprint
    }

    /// Issues another server certificate; each name becomes an IP or DNS subjectAltName.
    public func makeServerCert(names: [String]) throws -> ServerCertificate {
        try Self.issue(
            names: names, stem: "server-\(UUID().uuidString.prefix(8).lowercased())",
            directory: directory, caCertPath: caCertPath, caKeyPath: caKeyPath
        )
    }

    /// A directory holding only `ca.crt` (this CA), the layout `skopeo --cert-dir` expects.
    public func certDirectory() throws -> String {
        let path = directory.file("certdir")
        let target = "\(path)/ca.crt"
        if !FileManager.default.fileExists(atPath: target) {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: caCertPath, toPath: target)
        }
        return path
    }

    private static func issue(
        names: [String], stem: String, directory: TemporaryDirectory, caCertPath: String, caKeyPath: String
    ) throws -> ServerCertificate {
        guard let first = names.first else {
            throw FixtureError("makeServerCert needs at least one name (an IP address or DNS name)")
        }
        let keyPath = directory.file("\(stem)-key.pem")
        let csrPath = directory.file("\(stem).csr")
        let certPath = directory.file("\(stem).pem")
        let extPath = directory.file("\(stem).ext")
        let altNames = names.map { isIPAddress($0) ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        let extensions = """
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth
            subjectAltName=\(altNames)

            """
        try extensions.write(toFile: extPath, atomically: true, encoding: .utf8)
        try Shell.check([
            "openssl", "req", "-new", "-nodes",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", keyPath, "-out", csrPath, "-subj", "/CN=\(first)",
        ])
        try Shell.check([
            "openssl", "x509", "-req", "-in", csrPath, "-CA", caCertPath, "-CAkey", caKeyPath,
            "-set_serial", String(UInt64.random(in: 1...UInt64(Int64.max))),
            "-days", "30", "-sha256", "-extfile", extPath, "-out", certPath,
        ])
        return ServerCertificate(certPath: certPath, keyPath: keyPath, sha256Fingerprint: try fingerprint(of: certPath))
    }

    /// Lower-case hex SHA-256 of the DER encoding of the PEM certificate at `path`.
    public static func fingerprint(of path: String) throws -> String {
        let out = try Shell.check(["openssl", "x509", "-in", path, "-noout", "-fingerprint", "-sha256"])
        guard let value = out.split(separator: "=", maxSplits: 1).last else {
            throw FixtureError("openssl printed no fingerprint for \(path): \(out)")
        }
        let hex = value.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
        guard hex.count == 64 else {
            throw FixtureError("openssl printed an unexpected fingerprint for \(path): \(out)")
        }
        return hex
    }

    private static func isIPAddress(_ name: String) -> Bool {
        name.contains(":") || (!name.isEmpty && name.allSatisfy { $0.isNumber || $0 == "." })
    }
}
