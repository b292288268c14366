import Foundation
import Testing
import TestSupport

/// A login belongs to its registry. A real TLS registry with htpasswd redirects blob GETs to a
/// second TLS origin (nginx) that answers 401 with a Bearer challenge naming a token realm of its
/// own, and logs every Authorization header it receives. Every kind of vantage pulls through it:
/// direct, both proxies, and SSH with the remote curl and with `3tofu agent`.
@Suite("credentials stay with their registry", .serialized)
struct CredentialScopeTests {
    /// nginx configuration: a token service at /token, and 401 with a challenge naming it for
    /// everything else.
    static let loginWall = """
        location = /token {
            default_type application/json;
            return 200 '{"token": "origin-token", "expires_in": 300}';
        }
        location / {
            add_header WWW-Authenticate 'Bearer realm="https://$host:$server_port/token",service="origin"' always;
            return 401;
        }
        """

    @Test func aRedirectTargetThatAsksForALoginGetsNone() async throws {
        let ca = try TestCA()
        let empty = try TemporaryDirectory(prefix: "origin-root")
        let origin = try await NginxServer(root: empty.path, locations: Self.loginWall, tls: ca)
        defer { origin.stop() }
        let password = "redirect-0rigin-s3cret"
        let lab = try await Lab([.tls(ca), .htpasswd(user: "erin", password: password), .redirectBlobs(baseURL: origin.baseURL)])
        defer { lab.stop() }
        let image = try lab.makeImage(layers: [30_000], seed: 41)
        _ = try lab.push(image, "scope/app", tag: "1")
        let binary = URL(fileURLWithPath: try ThreeTofuCLI.executable).deletingLastPathComponent().path
        let server = try await SSHServer(environment: ["PATH": "\(binary):/usr/bin:/bin"])
        defer { server.stop() }
        let agent = SSHVantageTests.sshVantage("ssh-agent", server).replacingOccurrences(of: "agent = \"curl\"", with: "agent = \"3tofu\"")
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("ssh-curl", server) + agent)
        let loggedBefore = origin.authorizationLog()
        let output = lab.home.file("app.tar")

        let result = try lab.run(["pull", "\(lab.registry.host)/scope/app:1", "--output", output, "--vantages", vantages] + lab.registryOptions())

        // The registry really sent the vantages to the origin, and the origin really asked for a login.
        let access = origin.accessLog()
        #expect(access.contains("/docker/registry/v2/blobs/"), "the registry did not redirect to the origin: \(access)")
        // (The log holds the header's value; only the requests are shown.)
        let leaked = origin.authorizationLog().dropFirst(loggedBefore.count).map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
        #expect(leaked.isEmpty, "Authorization reached the redirect target: \(leaked)")
        #expect(!access.contains("/token"), "3tofu asked the token realm the redirect target named: \(access)")
        // Refused, named, nothing written, and no secret shown.
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("https://127.0.0.1:\(origin.port)"), "\(result.stderr)")
        for name in ["direct", "http-proxy", "socks", "ssh-curl", "ssh-agent"] {
            let line = result.stderr.split(separator: "\n").first { $0.contains(name) && $0.contains("127.0.0.1:\(origin.port)") }
            #expect(line != nil, "vantage \(name) did not name the origin: \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: output))
        let basic = Data("erin:\(password)".utf8).base64EncodedString()
        for stream in [result.stdout, result.stderr] {
            #expect(!stream.contains(password) && !stream.contains(basic))
        }
    }
}
