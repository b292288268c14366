import Configuration
import Foundation
import Registry
import Remote
import Transport

/// `vantages check`: reach a registry through every vantage and say, per vantage, whether it works.
public enum VantageCheck {
    public struct Outcome: Sendable {
        public var name: String
        public var kind: String
        public var route: String
        public var ok: Bool
        /// What worked ("HTTP 401 from 203.0.113.9, HTTP/2, TLS leaf sha256:…") or why not.
        public var detail: String
        public var seconds: Double
    }

    public static func run(
        vantages: [VantageSpec], registry: String, insecureRegistries: Set<String>, caCertificatePath: String?, timeout: Double
    ) async -> [Outcome] {
        await VantageFanOut.inOrder(vantages) { spec in
            let start = Date()
            func outcome(_ ok: Bool, _ route: String, _ detail: String) -> Outcome {
                Outcome(name: spec.name, kind: spec.kind.rawValue, route: route, ok: ok, detail: detail, seconds: Date().timeIntervalSince(start))
            }
            let client: VantageClient
            var remote: SSHCurlTransport?
            do {
                if spec.kind == .ssh, spec.agent == .curl {
                    let transport = try SSHVantage.transport(spec, caCertificatePath: caCertificatePath, timeout: timeout)
                    remote = transport
                    client = VantageClient(
                        spec: spec, route: transport.route,
                        client: RegistryClient(transport: transport, credentials: .none, insecureRegistries: insecureRegistries))
                } else {
                    client = try VantageClients.make(
                        spec, caCertificatePath: caCertificatePath, insecureRegistries: insecureRegistries, credentials: .none, timeout: timeout)
                }
            } catch {
                return outcome(false, "-", CoordinatorError(error).message)
            }
            var parts: [String] = []
            if let remote {
                // Reachability, host key and authentication, then the tools the curl agent needs.
                do {
                    let probe = try await withTimeout(timeout, vantage: spec.name) { try await remote.probe() }
                    parts.append("host key \(probe.hostKey.fingerprint)")
                    guard probe.missing.isEmpty else {
                        parts.append("missing on the remote host: \(probe.missing.joined(separator: ", ")); install it there (agent = \"curl\" needs sh, curl and sha256sum or openssl)")
                        return outcome(false, client.route, parts.joined(separator: ", "))
                    }
                    parts.append(probe.curlVersion.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } ?? "curl")
                    parts.append(probe.hashTool ?? "sha256sum")
                } catch {
                    return outcome(false, client.route, CoordinatorError(error).message)
                }
            }
            do {
                let ping = try await withTimeout(timeout, vantage: spec.name) {
                    try await client.client.ping(registry: registry)
                }
                parts.append("HTTP \(ping.status) from \(ping.evidence.remoteIP ?? "?")")
                if let version = ping.evidence.httpVersion { parts.append("HTTP/\(version)") }
                if let leaf = ping.evidence.certificateSHA256.first { parts.append("TLS leaf sha256:\(leaf.prefix(16))…") }
                if remote == nil, let hostKey = ping.evidence.sshHostKey { parts.insert("host key \(hostKey), 3tofu agent", at: 0) }
                return outcome(true, client.route, parts.joined(separator: ", "))
            } catch {
                return outcome(false, client.route, CoordinatorError(error).message)
            }
        }
    }
}
