import Foundation
import Testing
import TestSupport

/// An SSH vantage whose remote never stops talking does not hold the run (issue 14, part 6).
@Suite("SSH vantages that never finish", .serialized)
struct VantageTimeoutTests {
    /// The remote "curl" answers every request with `HTTP/1.1 100 Continue` as fast as it can
    /// (3 million times, so an unbounded reader still ends). The vantage fails at once, saying
    /// why; the run ends with exit 3 instead of reading interim responses for minutes.
    @Test func endlessInterimResponsesFailTheVantageAtOnce() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [5_000], seed: 31)
        _ = try lab.push(image, SSHVantageTests.repository, tag: "1")
        let scratch = try TemporaryDirectory(prefix: "remote-path")
        let bin = try SSHVantageTests.curlWrapper(in: scratch.path, body: """
            i=0
            while [ $i -lt 3000000 ]; do printf 'HTTP/1.1 100 Continue\\r\\n\\r\\n'; i=$((i+1)); done
            """)
        let server = try await SSHServer(environment: ["PATH": "\(bin):/usr/bin:/bin"])
        let vantages = try lab.vantagesFile(extra: SSHVantageTests.sshVantage("vps", server), only: [.direct, .httpProxy])
        let started = ContinuousClock.now
        let result = try lab.run(
            ["resolve", "\(lab.registry.host)/\(SSHVantageTests.repository):1", "--vantages", vantages, "--vantage-timeout", "30"]
                + lab.registryOptions())
        let elapsed = ContinuousClock.now - started
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("vps"), "\(result.stderr)")
        #expect(result.stderr.contains("more than 20 interim (1xx) responses"), "\(result.stderr)")
        #expect(elapsed < .seconds(30), "the run took \(elapsed) with --vantage-timeout 30")
    }
}
