import Configuration
import Foundation
import Remote
import Transport

/// Builds the transport of a `kind = "ssh"` vantage from its spec: target (host, port, user,
/// identity or ssh-agent, known_hosts), the remote fetcher's timeouts and extra CAs.
enum SSHVantage {
    /// The transport for the vantage's agent: curl on the remote (`agent = "curl"`) or
    /// `3tofu agent` on the remote (`agent = "3tofu"`).
    static func httpTransport(
        _ spec: VantageSpec, caCertificatePath: String?, timeout: Double,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any HTTPTransport {
        switch spec.agent {
        case .curl:
            return try transport(spec, caCertificatePath: caCertificatePath, timeout: timeout, environment: environment)
        case .threeTofu:
            return try agentTransport(spec, caCertificatePath: caCertificatePath, timeout: timeout, environment: environment)
        }
    }

    /// The transport of an `agent = "3tofu"` vantage: `3tofu agent` on the remote does the fetching.
    static func agentTransport(
        _ spec: VantageSpec, caCertificatePath: String?, timeout: Double,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SSHAgentTransport {
        let (target, pem) = try connectionParts(spec, caCertificatePath: caCertificatePath, timeout: timeout, environment: environment)
        return SSHAgentTransport(connection: SSHConnection(target: target), extraCAPEM: pem, connectTimeout: min(20, timeout))
    }

    /// The transport of an `agent = "curl"` vantage; refuses other agents (see `httpTransport`).
    static func transport(
        _ spec: VantageSpec, caCertificatePath: String?, timeout: Double,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SSHCurlTransport {
        guard spec.agent == .curl else {
            throw CoordinatorError(.badInput, "vantage '\(spec.name)': agent = \"3tofu\" is not wired into this command yet; use agent = \"curl\" (needs only sh, curl and sha256sum on the remote)")
        }
        let (target, pem) = try connectionParts(spec, caCertificatePath: caCertificatePath, timeout: timeout, environment: environment)
        let options = RemoteCurlScript.Options(connectTimeout: min(20, timeout), extraCAPEM: pem)
        return SSHCurlTransport(connection: SSHConnection(target: target), options: options)
    }

    /// The SSH target and the extra CA PEM (from --ca-cert and ca_cert) of an SSH vantage.
    private static func connectionParts(
        _ spec: VantageSpec, caCertificatePath: String?, timeout: Double, environment: [String: String]
    ) throws -> (SSHTarget, Data?) {
        guard let host = spec.host, !host.isEmpty else {
            throw CoordinatorError(.badInput, "vantage '\(spec.name)' of kind ssh has no host; set host = \"…\" in the vantages file")
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
        return (target, pem)
    }
}
