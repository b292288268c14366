import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// Checks that the TestSupport fixtures start real servers that answer, and that synthetic
/// images push with the digests they claim.
@Suite("TestSupport fixtures")
struct FixturesSelfCheck {
    private static func httpCode(_ args: [String]) throws -> String {
        try Shell.run(args + ["-o", "/dev/null", "-w", "%{http_code}"]).stdout
    }

    @Test func plainRegistryAnswersAndStops() async throws {
        let registry = try await RegistryServer([.plainHTTP])
        #expect(registry.host == "127.0.0.1:\(registry.port)")
        #expect(registry.baseURL.absoluteString == "http://\(registry.host)")
        #expect(try Self.httpCode(registry.curlArguments() + [registry.baseURL.absoluteString + "/v2/"]) == "200")
        registry.stop()
        #expect(!registry.process.isRunning)
        #expect(!FreePort.isAccepting(port: registry.port))
    }

    @Test func tlsRegistryWithHtpasswdServesTheTestCertificate() async throws {
        let ca = try TestCA()
        let registry = try await RegistryServer([.tls(ca), .htpasswd(user: "alice", password: "s3cret")])
        let url = registry.baseURL.absoluteString + "/v2/"
        #expect(url.hasPrefix("https://127.0.0.1:"))
        let anonymous = ["curl", "-sS", "--noproxy", "*", "--cacert", ca.caCertPath, url]
        #expect(try Self.httpCode(anonymous) == "401")
        #expect(try Self.httpCode(registry.curlArguments() + [url]) == "200")
        #expect(try Self.httpCode(["curl", "-sS", "--noproxy", "*", "--cacert", ca.caCertPath, "-u", "alice:wrong", url]) == "401")
        // Without the CA, verification must fail (curl exit 60).
        #expect(try Shell.run(["curl", "-sS", "--noproxy", "*", url]).status == 60)

        let handshake = try Shell.run(["openssl", "s_client", "-connect", registry.host], stdin: Data())
        let served = try Shell.check(
            ["openssl", "x509", "-noout", "-fingerprint", "-sha256"], stdin: Data(handshake.stdout.utf8)
        )
        let hex = served.split(separator: "=").last.map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: ":", with: "").lowercased()
        }
        #expect(hex == ca.leafSHA256Fingerprint)
        #expect(ca.leafSHA256Fingerprint.count == 64)
    }

    @Test func tinyproxyTunnelsConnectToTheTLSRegistry() async throws {
        let ca = try TestCA()
        let registry = try await RegistryServer([.tls(ca)])
        let proxy = try await TinyProxy()
        #expect(proxy.url == "http://127.0.0.1:\(proxy.port)")
        let code = try Self.httpCode([
            "curl", "-sS", "--proxy", proxy.url, "--cacert", ca.caCertPath, registry.baseURL.absoluteString + "/v2/",
        ])
        #expect(code == "200")
        #expect(proxy.requests().contains("CONNECT \(registry.host) HTTP/1.1"))
    }

    @Test func microsocksCarriesTrafficAndFailsWhenStopped() async throws {
        let ca = try TestCA()
        let registry = try await RegistryServer([.tls(ca)])
        let socks = try await MicroSocks()
        #expect(socks.url(h: true) == "socks5h://127.0.0.1:\(socks.port)")
        #expect(socks.url(h: false) == "socks5://127.0.0.1:\(socks.port)")
        let request = [
            "curl", "-sS", "--socks5-hostname", "127.0.0.1:\(socks.port)", "--cacert", ca.caCertPath,
            "https://localhost:\(registry.port)/v2/",
        ]
        #expect(try Self.httpCode(request) == "200")
        socks.stop()
        #expect(try Shell.run(request).status != 0)
    }

    @Test func singlePlatformOCIImagePushesWithItsDigest() async throws {
        let work = try TemporaryDirectory(prefix: "selfcheck")
        let layout = try TestImage.make(in: work.file("one"), layers: [2048, 100_000], seed: 7)
        let again = try TestImage.make(in: work.file("again"), layers: [2048, 100_000], seed: 7)
        let other = try TestImage.make(in: work.file("other"), layers: [2048, 100_000], seed: 8)
        #expect(layout.topDigest == again.topDigest)
        #expect(layout.topDigest != other.topDigest)
        #expect(layout.topMediaType == "application/vnd.oci.image.manifest.v1+json")
        #expect(layout.layerDigests.count == 2)

        for layer in layout.images[0].layers {
            let tar = try Shell.runCapturing(["gzip", "-dc"], stdin: try layout.blob(layer.digest)).stdoutData
            #expect("sha256:" + (try Shell.sha256Hex(tar)) == layer.diffID)
            #expect(tar.count == layer.uncompressedSize)
        }

        let registry = try await RegistryServer()
        let pushed = try TestImage.push(layout, to: registry, repository: "self/single", tag: "v1")
        #expect(pushed.digest == layout.topDigest)
        let raw = try Shell.runCapturing(
            ["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://\(pushed.digestReference)"]
        )
        #expect(raw.stdoutData == (try layout.blob(layout.topDigest)))
    }

    @Test(arguments: [TestImage.MediaTypes.oci, .docker])
    func multiPlatformImageWithAttestationsPushesToTLSAuthRegistry(mediaTypes: TestImage.MediaTypes) async throws {
        let work = try TemporaryDirectory(prefix: "selfcheck")
        let layout = try TestImage.make(
            in: work.file("multi"), layers: [4096], content: .incompressible,
            mediaTypes: mediaTypes, platforms: .multi, seed: 3
        )
        let expectedTop = mediaTypes == .oci
            ? "application/vnd.oci.image.index.v1+json"
            : "application/vnd.docker.distribution.manifest.list.v2+json"
        #expect(layout.topMediaType == expectedTop)
        #expect(Set(layout.manifestDigests.keys) == ["linux/amd64", "linux/arm64/v8"])
        #expect(layout.attestations.count == 2)
        let index = String(decoding: try layout.blob(layout.topDigest), as: UTF8.self)
        #expect(index.contains("\"vnd.docker.reference.type\": \"attestation-manifest\""))
        if let amd64 = layout.manifestDigests["linux/amd64"] {
            #expect(index.contains("\"vnd.docker.reference.digest\": \"\(amd64)\""))
        }

        let ca = try TestCA()
        let registry = try await RegistryServer([.tls(ca), .htpasswd(user: "bob", password: "pw")])
        let pushed = try TestImage.push(layout, to: registry, repository: "self/multi-\(mediaTypes)", tag: "latest")
        #expect(pushed.digest == layout.topDigest)

        let armDigest = try #require(layout.manifestDigests["linux/arm64/v8"])
        let arm = try Shell.runCapturing(
            ["skopeo", "inspect", "--raw"] + (try registry.skopeoOptions(prefix: ""))
                + ["docker://\(registry.host)/self/multi-\(mediaTypes)@\(armDigest)"]
        )
        #expect("sha256:" + (try Shell.sha256Hex(arm.stdoutData)) == armDigest)
        let attestation = try #require(layout.attestationDigests["linux/amd64"])
        let attestationManifest = try Shell.check(
            ["skopeo", "inspect", "--raw"] + (try registry.skopeoOptions(prefix: ""))
                + ["docker://\(registry.host)/self/multi-\(mediaTypes)@\(attestation)"]
        )
        #expect(attestationManifest.contains("application/vnd.in-toto+json"))
    }

    @Test func managedProcessReportsAnEarlyExitWithItsLog() async throws {
        let process = try ManagedProcess(executable: "sh", arguments: ["-c", "echo fixture-boom >&2; exit 3"])
        // A port held bound but not listening for the whole test: connecting is refused, and no
        // other test's server can take it meanwhile (a port only picked could be).
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(held >= 0)
        defer { close(held) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(held, $0, length) == 0 && getsockname(held, $0, &length) == 0 }
        }
        #expect(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        await #expect(throws: FixtureError.self) {
            try await process.waitForPort(port, timeout: .seconds(5))
        }
        do {
            try await process.waitForPort(port, timeout: .seconds(5))
        } catch let error as FixtureError {
            #expect(error.message.contains("fixture-boom"))
        }
    }

    @Test func managedProcessStopKillsAProcessThatIgnoresSIGTERM() throws {
        let process = try ManagedProcess(executable: "sh", arguments: ["-c", "trap '' TERM; while :; do sleep 0.1; done"])
        #expect(process.isRunning)
        let started = ContinuousClock.now
        process.stop()
        #expect(!process.isRunning)
        #expect(ContinuousClock.now - started >= .milliseconds(400))
    }

    @Test func shellTimesOutAndReportsStatus() throws {
        #expect(throws: FixtureError.self) {
            try Shell.run(["sleep", "5"], timeout: .milliseconds(300))
        }
        let result = try Shell.run(["sh", "-c", "cat; echo err >&2; exit 4"], env: ["X": "1"], stdin: Data("hi".utf8))
        #expect(result.status == 4)
        #expect(result.stdout == "hi")
        #expect(result.stderr == "err\n")
    }
}
