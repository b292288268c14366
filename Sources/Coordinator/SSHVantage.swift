import Configuration
import Foundation
import Remote
import Transport

/// Builds the transport of a `kind = "ssh"` vantage from its spec: target (host, port, user,
/// identity or ssh-agent, known_hosts), the remote curl's timeouts and extra CAs.
enum SSHVantage {
    static func transport(
        _ spec: VantageSpec, caCertificatePath: String?, timeout: Double,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SSHCurlTransport {
        guard let host = spec.host, !host.isEmpty else {
            throw CoordinatorError(.badInput, "vantage '\(spec.name)' of kind ssh has no host; set host = \"…\" in the vantages file")
        }
        guard spec.agent == .curl else {
            throw CoordinatorError(.badInput, "vantage '\(spec.name)': agent = \"3tofu\" is not available in this version of 3tofu; use agent = \"curl\" (needs only sh, curl and sha256sum on the remote)")
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let user = spec.user ?? environment["USER"] ?? environment["LOGNAME"] ?? NSUserName()
        let target = SSHTarget(
            host: host, port: spec.port, user: user, identity: spec.identity,
            knownHosts: spec.knownHosts ?? home + "/.ssh/known_hosts",
            passphrase: environment[SSHTarget.passphraseVariable],
            connectTimeout: min(20, timeout), idleTimeout: max(30, min(600, timeout)))
        var pem: Data?
        if let path = try CABundles.combined([caCertificatePath, spec.caCert].compactMap { $0 }) {
            guard let data = FileManager.default.contents(atPath: path), data.range(of: Data("-----BEGIN CERTIFICATE-----".utf8)) != nil else {
                throw CoordinatorError(.badInput, "vantage '\(spec.name)': \(path) contains no PEM certificate (-----BEGIN CERTIFICATE-----); give --ca-cert or ca_cert a PEM file")
            }
            pem = data
        }
        let options = RemoteCurlScript.Options(connectTimeout: min(20, timeout), extraCAPEM: pem)
        return SSHCurlTransport(connection: SSHConnection(target: target), options: options)
    }
}
