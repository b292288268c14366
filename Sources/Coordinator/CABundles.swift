import Foundation

/// Joins several extra-CA PEM files into one, since a transport takes a single extra bundle.
enum CABundles {
    static func combined(_ paths: [String]) throws -> String? {
        let unique = Array(NSOrderedSet(array: paths)).compactMap { $0 as? String }
        for path in unique where !FileManager.default.isReadableFile(atPath: path) {
            throw CoordinatorError(.badInput, "cannot read the CA certificate file \(path); check --ca-cert or the vantage's ca_cert")
        }
        guard unique.count > 1 else { return unique.first }
        var pem = Data()
        for path in unique {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            pem.append(data)
            pem.append(Data("\n".utf8))
        }
        let combined = FileManager.default.temporaryDirectory.appendingPathComponent("3tofu-ca-\(UUID().uuidString).pem").path
        guard FileManager.default.createFile(atPath: combined, contents: pem, attributes: [.posixPermissions: 0o600]) else {
            throw CoordinatorError(.notMet, "cannot write a combined CA bundle to \(combined)")
        }
        return combined
    }
}
