import Foundation
import Testing
import TestSupport

/// The progress of a fetch and of a bundle, through the real CLI: on a terminal (a tmux pane) the
/// live block redrawn in place, on a pipe plain lines at a bounded rate, nothing under -q. A
/// route is held still half way (`FaultProxy` stalls a body after `stallAfter` bytes), so what
/// is on screen while it waits is known.
@Suite("fetch and bundle progress", .serialized)
struct SetProgressTests {
    static let size = 6_000_000
    static let stallAfter = 3 << 20

    /// A 6 MB file of random bytes served by nginx behind `FaultProxy`, the first GET of it stalled after 3 MiB.
    static func fileSite(stallSeconds: Double) async throws -> (lab: Lab, proxy: FaultProxy, url: String, server: NginxServer) {
        let lab = try await Lab()
        let root = lab.home.file("site")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        try Data((0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: URL(fileURLWithPath: root + "/tool.bin"))
        let server = try await NginxServer(root: root)
        let proxy = try await FaultProxy(upstream: server.baseURL)
        try proxy.inject([.init(path: "/tool.bin", times: 1, .stall(afterBytes: stallAfter, seconds: stallSeconds))])
        return (lab, proxy, proxy.baseURL + "/tool.bin", server)
    }

    /// Two images behind `FaultProxy`: `bundle-a:1` (one 6 MB layer, its first GET stalled after
    /// 3 MiB) and `bundle-b:1` (a small layer; with `manifestStall`, its manifest's first GET held).
    static func bundleSite(stallSeconds: Double, manifestStall: Double? = nil) async throws -> (lab: Lab, proxy: FaultProxy, imagesFile: String, layer: String) {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        let big = try lab.makeImage(layers: [size], seed: 161, content: .incompressible)
        let small = try lab.makeImage(layers: [20_000], seed: 162)
        _ = try lab.push(big, "progress/bundle-a", tag: "1")
        _ = try lab.push(small, "progress/bundle-b", tag: "1")
        let layer = big.layerDigests[0]
        var faults: [FaultProxy.Fault] = [.init(path: "/v2/progress/bundle-a/blobs/" + layer, times: 1, .stall(afterBytes: stallAfter, seconds: stallSeconds))]
        if let manifestStall {
            faults.append(.init(path: "/v2/progress/bundle-b/manifests/1", times: 1, .stall(afterBytes: 0, seconds: manifestStall)))
        }
        try proxy.inject(faults)
        let imagesFile = lab.home.file("images.txt")
        try "\(proxy.host)/progress/bundle-a:1\n\(proxy.host)/progress/bundle-b:1\n".write(toFile: imagesFile, atomically: true, encoding: .utf8)
        return (lab, proxy, imagesFile, layer)
    }

    static func keepScreens(_ name: String, _ screens: [String]) {
        // For the docs: PROGRESS_SCREENSHOT=FILE keeps the screens (what a user saw) in FILE.NAME.
        if let path = ProcessInfo.processInfo.environment["PROGRESS_SCREENSHOT"] {
            try? screens.joined(separator: "\n----- later -----\n\n").write(toFile: path + "." + name, atomically: true, encoding: .utf8)
        }
    }

    /// fetch on a terminal: each vantage's download (bytes, share, rate, ETA) while the held one
    /// is waited for; afterwards the block is gone.
    @Test func fetchOnATerminalShowsEachVantagesDownload() async throws {
        let (lab, proxy, url, server) = try await Self.fileSite(stallSeconds: 4)
        defer {
            proxy.stop()
            server.stop()
        }
        let output = lab.home.file("tool.bin")
        let terminal = try TmuxTerminal(
            [try ThreeTofuCLI.executable, "fetch", url, "--output", output, "--vantages", try lab.vantagesFile()],
            environment: ["HOME": lab.home.path, "THREETOFU_CACHE": lab.home.file("cache")], width: 100, height: 30)
        defer { terminal.stop() }
        let held = try Regex(#"^  [a-z-]+ +downloading ([0-9.]+) MB / 6\.0 MB  ([0-9]+)%  [0-9.]+ [KMG]?B/s"#)
        let screen = try terminal.waitForScreen { screen in
            screen.split(separator: "\n").contains { (try? held.prefixMatch(in: String($0))) != nil && !$0.contains("  0%") }
        }
        let shown = try #require(screen, "the held vantage's download never showed: \((try? terminal.screen()) ?? "")")
        Self.keepScreens("fetch", [shown])
        #expect(shown.split(separator: "\n").allSatisfy { $0.count <= 100 })
        #expect(terminal.waitForExit() == 0, "\((try? terminal.screen()) ?? "")")
        let final = try terminal.screen()
        #expect(final.components(separatedBy: "resolving on 3 vantages").count == 2, "each step once:\n\(final)")
        #expect(!final.contains("downloading "), "the live block was cleared:\n\(final)")
        #expect(final.contains("verdict: AGREE"), "\(final)")
    }

    /// fetch on a pipe: the held vantage's share at most every two seconds, no escape sequence;
    /// with -q only the verdict.
    @Test func fetchOnAPipeLogsEachVantagesShareAndNothingUnderQuiet() async throws {
        let (lab, proxy, url, server) = try await Self.fileSite(stallSeconds: 5)
        defer {
            proxy.stop()
            server.stop()
        }
        let vantages = try lab.vantagesFile()
        let result = try lab.run(["fetch", url, "--output", lab.home.file("a.bin"), "--vantages", vantages])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let held = lines.filter { $0.hasPrefix("vantage ") && $0.contains(" MB / 6.0 MB ") && !$0.contains(" 0% ") }
        #expect(!held.isEmpty, "the held vantage's share was never logged: \(result.stderr)")
        #expect(held.count <= 4, "a line per two seconds of a five-second hold: \(held)")
        #expect(!result.stderr.contains("\u{1B}"), "a log gets no escape sequences")

        let quiet = try lab.run(["fetch", url, "--output", lab.home.file("q.bin"), "--vantages", vantages, "-q"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(quiet.stderr.hasPrefix("verdict: AGREE") && quiet.stderr.split(separator: "\n").count == 1, "\(quiet.stderr)")
    }

    /// A bundle on a terminal: every image's vantages, named after it, while one image's manifest
    /// is held; then one download line per layer and the set's overall line with its ETA.
    @Test func bundleOnATerminalShowsEveryImageAndOneDownload() async throws {
        let (lab, proxy, imagesFile, layer) = try await Self.bundleSite(stallSeconds: 4, manifestStall: 4)
        defer { proxy.stop() }
        let output = lab.home.file("bundle.tar")
        let terminal = try TmuxTerminal(
            [try ThreeTofuCLI.executable, "pull", "--images-from", imagesFile, "--output", output, "--vantages", try lab.vantagesFile(),
             "--insecure-registry", proxy.host],
            environment: ["HOME": lab.home.path, "THREETOFU_CACHE": lab.home.file("cache")], width: 100, height: 40)
        defer { terminal.stop() }
        let resolving = try terminal.waitForScreen { screen in
            let block = screen.split(separator: "\n").filter { $0.hasPrefix("  bundle-") }
            // Both images' vantages in one block: all answered but the held one of bundle-b.
            return block.filter { $0.contains("  answered in ") }.count == 5
                && block.filter { $0.hasPrefix("  bundle-b:1/") && $0.contains("waiting for an answer…") }.count == 1
        }
        let resolvingScreen = try #require(resolving, "the held image was never shown as waited for: \((try? terminal.screen()) ?? "")")
        let short = String(layer.prefix(19)) + "…"
        let downloading = try terminal.waitForScreen { screen in
            let rows = screen.split(separator: "\n")
            return rows.contains { $0.hasPrefix("  \(short)  ") && $0.contains(" / 6.0 MB  ") && !$0.contains("  0%") }
                && rows.contains { $0.contains("/2 layers  ") && $0.contains("ETA ") }
        }
        let downloadScreen = try #require(downloading, "the set's download never showed: \((try? terminal.screen()) ?? "")")
        Self.keepScreens("bundle", [resolvingScreen, downloadScreen])
        #expect(terminal.waitForExit() == 0, "\((try? terminal.screen()) ?? "")")
        let final = try terminal.screen()
        #expect(!final.contains("waiting for an answer…") && !final.contains("ETA"), "the live block was cleared:\n\(final)")
        #expect(final.contains("layer \(short) verified (6.0 MB)"), "\(final)")
        #expect(final.components(separatedBy: "writing docker-archive to").count == 2, "\(final)")
    }

    /// A bundle on a pipe: plain step lines for every image and the set's download; -q prints none.
    @Test func bundleOnAPipeLogsStepsAndNothingUnderQuiet() async throws {
        let (lab, proxy, imagesFile, layer) = try await Self.bundleSite(stallSeconds: 3)
        defer { proxy.stop() }
        let vantages = try lab.vantagesFile()
        let result = try lab.run(["pull", "--images-from", imagesFile, "--output", lab.home.file("b.tar"), "--vantages", vantages, "--insecure-registry", proxy.host])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains("resolving on 3 vantages: bundle-a:1/direct, bundle-a:1/http-proxy, bundle-a:1/socks"), "\(result.stderr)")
        #expect(lines.contains { $0.hasPrefix("vantage bundle-b:1/socks answered in ") }, "\(result.stderr)")
        #expect(lines.contains("downloading 2 of 2 layers (6.0 MB in all, 0 already verified in the cache)"), "one plan for the set: \(result.stderr)")
        let short = String(layer.prefix(19)) + "…"
        #expect(lines.contains { $0.hasPrefix("layer \(short) ") && $0.contains(" / 6.0 MB ") && !$0.contains(" 0% ") }, "\(result.stderr)")
        #expect(lines.contains("layer \(short) verified (6.0 MB)"), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}"))

        let quiet = try lab.run(["pull", "--images-from", imagesFile, "--output", lab.home.file("q.tar"), "--vantages", vantages, "--insecure-registry", proxy.host, "-q"])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("resolving on") && !quiet.stderr.contains(" of 2 layers") && !quiet.stderr.contains("verified ("), "\(quiet.stderr)")
    }

    /// fetch's second download: the vantage that keeps a copy (here the first, a proxy that is
    /// down) kept none, a policy that tolerates one unavailable vantage lets the run go on, and
    /// an agreeing route downloads the file again, held half way (the third GET of the file): on
    /// a pipe its bytes and share are logged as the first downloads' were.
    @Test func fetchsSecondDownloadLogsItsBytesOnAPipe() async throws {
        let (lab, proxy, url, server) = try await Self.fileSite(stallSeconds: 0)
        defer {
            proxy.stop()
            server.stop()
        }
        // The first two GETs (the two answering vantages) pass untouched; the third is held.
        try proxy.inject([
            .init(path: "/tool.bin", times: 2, .ignoreRange),
            .init(path: "/tool.bin", times: 1, .stall(afterBytes: Self.stallAfter, seconds: 5)),
        ])
        let vantages = try lab.vantagesFile(extra: """
            [[vantage]]
            name = "gone"
            kind = "proxy"
            proxy = "http://127.0.0.1:9"

            [[vantage]]
            name = "http-proxy"
            kind = "proxy"
            proxy = "\(lab.httpProxy.url)"

            [[vantage]]
            name = "socks"
            kind = "proxy"
            proxy = "\(lab.socksProxy.url(h: true))"

            """, includeStandard: false)
        let policy = lab.home.file("two.toml")
        try """
            name = "two-of-three"
            description = "Two vantages answer and agree; one may be unavailable."
            min_agreeing = 2
            max_unavailable = 1
            blob_verification = "source"
            require_route_kinds = []
            allow_insecure_registries = true

            """.write(toFile: policy, atomically: true, encoding: .utf8)
        let result = try lab.run(["fetch", url, "--output", lab.home.file("again.bin"), "--vantages", vantages, "--policy", policy])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let again = try #require(
            lines.firstIndex { $0.hasSuffix("downloading the agreed file again (no copy was kept from the first downloads)") },
            "the second download was never announced: \(result.stderr)")
        let name = lines[again].split(separator: " ")[1]
        let held = lines[again...].filter { $0.hasPrefix("vantage \(name) ") && $0.contains(" MB / 6.0 MB ") && !$0.contains(" 0% ") }
        #expect(!held.isEmpty, "the second download's share was never logged: \(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}"), "a log gets no escape sequences")
    }
}
