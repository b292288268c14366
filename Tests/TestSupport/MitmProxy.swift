import Foundation

/// The attacker on one route: a real `mitmdump` (mitmproxy 8) on 127.0.0.1:<free port> running
/// examples/attacker.py, an HTTP proxy that intercepts TLS with its own CA (the "rogue CA",
/// generated in a fresh confdir) and rewrites what the registry answers. Every rewrite is logged,
/// so a test can check that the attack really happened.
public final class MitmProxy: Sendable {
    /// What the addon rewrites; see examples/attacker.py for the modes.
    public struct Attack: Sendable {
        public enum Mode: String, Sendable {
            case passThrough = ""
            case swapManifest = "swap-manifest"
            case swapPlatformManifest = "swap-platform-manifest"
            case swapBlob = "swap-blob"
            /// Any plain URL whose path is `targetPath` (a release file, a formula API document).
            case swapURL = "swap-url"
        }

        public var mode: Mode
        /// A file holding the replacement bytes.
        public var replacementPath: String?
        /// Manifest modes: ask the registry for this tag instead (alternative to `replacementPath`).
        public var replacementTag: String?
        /// `swapManifest`: only this tag (nil: every tag).
        public var targetTag: String?
        /// `swapPlatformManifest`, `swapBlob`: the digest answered falsely.
        public var targetDigest: String?
        /// Only requests to this "host:port" (nil: any host).
        public var registry: String?
        /// `swapURL`: the URL path answered falsely, e.g. "/files/tool.tar.gz".
        public var targetPath: String?

        public init(
            _ mode: Mode, replacementPath: String? = nil, replacementTag: String? = nil, targetTag: String? = nil, targetDigest: String? = nil, registry: String? = nil,
            targetPath: String? = nil
        ) {
            self.mode = mode
            self.replacementPath = replacementPath
            self.replacementTag = replacementTag
            self.targetTag = targetTag
            self.targetDigest = targetDigest
            self.registry = registry
            self.targetPath = targetPath
        }

        /// Every route's traffic passes untouched (an honest proxy that still intercepts TLS).
        public static let none = Attack(.passThrough)

        var settings: [String: String] {
            var settings = ["tofu_mode": mode.rawValue]
            settings["tofu_replacement"] = replacementPath
            settings["tofu_replacement_tag"] = replacementTag
            settings["tofu_target_tag"] = targetTag
            settings["tofu_target_digest"] = targetDigest
            settings["tofu_registry"] = registry
            settings["tofu_target_path"] = targetPath
            return settings
        }
    }

    public let port: Int
    /// "http://127.0.0.1:PORT", for a vantage's `proxy`.
    public let url: String
    /// mitmproxy's CA certificate (PEM): trusting it is trusting the attacker.
    public let caCertPath: String
    /// Where the addon logs its rewrites, one line each.
    public let rewriteLogPath: String
    /// Where the addon logs every HTTP request it saw (inside TLS too), one line each.
    public let requestLogPath: String
    public let process: ManagedProcess
    private let directory: TemporaryDirectory

    /// The addon, in the repository at examples/attacker.py (shared with examples/demo.sh).
    public static var scriptPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/attacker.py").path
    }

    /// Starts mitmdump with the addon and waits for its port. `upstreamCA` is the PEM bundle it
    /// uses to verify the real registry's certificate (mitmproxy verifies upstream by default).
    public init(attack: Attack, upstreamCA: String? = nil, executable: String = "mitmdump") async throws {
        let directory = try TemporaryDirectory(prefix: "mitmproxy")
        let confdir = directory.file("conf")
        try FileManager.default.createDirectory(atPath: confdir, withIntermediateDirectories: true)
        let rewriteLogPath = directory.file("rewrites.log")
        _ = FileManager.default.createFile(atPath: rewriteLogPath, contents: nil)
        let requestLogPath = directory.file("requests.log")
        _ = FileManager.default.createFile(atPath: requestLogPath, contents: nil)
        var settings = attack.settings
        settings["tofu_log"] = rewriteLogPath
        settings["tofu_requests"] = requestLogPath
        settings["confdir"] = confdir
        settings["termlog_verbosity"] = "warn"
        settings["flow_detail"] = "0"
        settings["ssl_verify_upstream_trusted_ca"] = upstreamCA
        let sets = settings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }

        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            let process = try ManagedProcess(
                executable: executable,
                arguments: ["--listen-host", "127.0.0.1", "--listen-port", String(port), "-s", Self.scriptPath] + sets,
                environment: ["HOME": directory.path],
                logPath: directory.file("mitmdump-\(port).log")
            )
            do {
                try await process.waitForPort(port, timeout: .seconds(30))
                let caCertPath = "\(confdir)/mitmproxy-ca-cert.pem"
                guard FileManager.default.fileExists(atPath: caCertPath) else {
                    throw FixtureError("mitmdump listens on \(port) but wrote no CA certificate at \(caCertPath); log tail:\n\(process.logTail())")
                }
                self.port = port
                self.url = "http://127.0.0.1:\(port)"
                self.caCertPath = caCertPath
                self.rewriteLogPath = rewriteLogPath
                self.requestLogPath = requestLogPath
                self.process = process
                self.directory = directory
                return
            } catch {
                process.stop()
                lastError = error
                if !process.log().lowercased().contains("address already in use") { break }
            }
        }
        throw lastError ?? FixtureError("mitmdump did not start")
    }

    /// The rewrites the addon made so far, one line each ("swap-manifest GET 127.0.0.1:PORT/v2/... served sha256:... instead of sha256:...").
    public func rewrites() -> [String] {
        let text = (try? String(contentsOfFile: rewriteLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// Every HTTP request the proxy saw so far ("GET 127.0.0.1:PORT/v2/..."), TLS-intercepted ones included.
    public func requests() -> [String] {
        let text = (try? String(contentsOfFile: requestLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    /// mitmdump's own output (warnings, errors, and each rewrite).
    public func log() -> String {
        process.log()
    }

    /// Stops mitmdump (SIGTERM, then SIGKILL).
    public func stop() {
        process.stop()
    }

    deinit { stop() }
}
