import Foundation

/// The PEM bytes a transport trusts when extra CAs are configured: the system bundle plus the
/// extra file, handed to libcurl as `CURLOPT_CAINFO_BLOB` (and `CURLOPT_PROXY_CAINFO_BLOB`).
enum CABundle {
    static let systemBundlePaths = [
        "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu, Alpine
        "/etc/pki/tls/certs/ca-bundle.crt",  // Fedora, RHEL
        "/etc/ssl/cert.pem",  // macOS, BSDs
    ]

    static func load(extraPath: String, systemPaths: [String] = systemBundlePaths) throws -> Data {
        let extra: Data
        do {
            extra = try Data(contentsOf: URL(fileURLWithPath: extraPath))
        } catch {
            throw TransportError(configuration: 
                "cannot read the CA certificates file \(extraPath): \(error.localizedDescription); check the --ca-cert path")
        }
        guard extra.range(of: Data("-----BEGIN CERTIFICATE-----".utf8)) != nil else {
            throw TransportError(configuration: 
                "\(extraPath) contains no PEM certificate (-----BEGIN CERTIFICATE-----); give --ca-cert a PEM file")
        }
        var bundle = Data()
        if let system = systemPaths.lazy.compactMap({ try? Data(contentsOf: URL(fileURLWithPath: $0)) }).first {
            bundle.append(system)
            bundle.append(UInt8(ascii: "\n"))
        }
        bundle.append(extra)
        bundle.append(UInt8(ascii: "\n"))
        return bundle
    }
}
