import Foundation
import Testing
import TestSupport

/// What a user sees while a pull runs, through the real CLI against a real registry: on a terminal
/// (a tmux pane, read as its screen) the live block redrawn in place; on a pipe plain lines at a
/// bounded rate; `-q` and `-v`. The download is held still half way (the registry's front stalls
/// the layer's body after `stallAfter` bytes, then the client resumes), so what is on screen
/// while it waits is known to the byte.
@Suite("progress display", .serialized)
struct ProgressDisplayTests {
    static let layerSize = 6_000_000
    /// Less than half the layer: a route that resumes a stalled download (a hand-over) stalls too.
    static let stallAfter = 2 << 20

    struct Setup {
        var lab: Lab
        var proxy: FaultProxy
        var layer: String
        var vantages: String
        var reference: String
    }

    /// A one-layer image behind `FaultProxy`; the layer's first `layerStalls` GETs (nil: every
    /// one) stall `stallSeconds` after `stallAfter` bytes of their body.
    static func setUp(repository: String, stallSeconds: Double, manifestStall: Double? = nil, layerStalls: Int? = 1) async throws -> Setup {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        let layout = try lab.makeImage(layers: [layerSize], seed: 16, content: .incompressible)
        _ = try lab.push(layout, repository, tag: "1")
        let layer = layout.layerDigests[0]
        var faults: [FaultProxy.Fault] = [.init(path: "/v2/\(repository)/blobs/" + layer, times: layerStalls, .stall(afterBytes: stallAfter, seconds: stallSeconds))]
        if let manifestStall {
            faults.append(.init(path: "/v2/\(repository)/manifests/1", times: 1, .stall(afterBytes: 0, seconds: manifestStall)))
        }
        try proxy.inject(faults)
        return Setup(lab: lab, proxy: proxy, layer: layer, vantages: try lab.vantagesFile(), reference: "\(proxy.host)/\(repository):1")
    }

    /// On a terminal: while one route is held, the block shows it as the one waited for and the
    /// others as answered; while the layer is held, its line (short digest, bytes, percent, rate)
    /// and the overall line with the ETA. Afterwards the block is gone (it was redrawn in place,
    /// never appended): each step is on screen once, then the table and the verdict.
    @Test func terminalShowsLayersAndVantagesRedrawnInPlace() async throws {
        // The layer is held longer than the route: the two free routes agree at once, so the layer
        // starts downloading (into the cache) while the held route is still waited for, and is
        // still held when the verdict is in. Every request for the layer stalls (not only the
        // first), 2 MiB into its body: the early downloads may hand a stalled layer to their
        // second route, which resumes it and would otherwise bring the rest before the verdict.
        let setup = try await Self.setUp(repository: "progress/tty", stallSeconds: 8, manifestStall: 4, layerStalls: nil)
        defer { setup.proxy.stop() }
        let lab = setup.lab
        let output = lab.home.file("out.tar")
        let terminal = try TmuxTerminal(
            [try ThreeTofuCLI.executable, "pull", setup.reference, "--output", output, "--vantages", setup.vantages, "--insecure-registry", setup.proxy.host],
            environment: ["HOME": lab.home.path, "THREETOFU_CACHE": lab.home.file("cache")], width: 100, height: 40)
        defer { terminal.stop() }
        let short = String(setup.layer.prefix(19)) + "…"

        // The block's rows (indented): the two free routes answered, the held one still waited for.
        let resolving = try terminal.waitForScreen { screen in
            let block = screen.split(separator: "\n").filter { $0.hasPrefix("  ") }
            return block.filter { $0.contains("  answered in ") }.count == 2 && block.contains { $0.contains("waiting for an answer…") }
        }
        let resolvingScreen = try #require(resolving, "the held route was never shown as the one waited for: \((try? terminal.screen()) ?? "")")
        let waiting = resolvingScreen.split(separator: "\n").filter { $0.contains("waiting for an answer…") }
        #expect(waiting.count == 1, "exactly the held route is waited for:\n\(resolvingScreen)")

        // The held layer's bytes on disk (the store writes in whole chunks, so at most the 2 or 4 MiB held).
        let layerLine = try Regex(#"^  "# + NSRegularExpression.escapedPattern(for: short) + #"  ([0-9.]+) MB / 6\.0 MB  ([0-9]+)%  [0-9.]+ [KMG]?B/s$"#)
        let downloading = try terminal.waitForScreen { screen in
            screen.split(separator: "\n").contains { (try? layerLine.wholeMatch(in: String($0))) != nil && !$0.contains("  0%") } && screen.contains("ETA")
        }
        let downloadScreen = try #require(downloading, "the held layer's line never showed: \((try? terminal.screen()) ?? "")")
        // For the docs: PROGRESS_SCREENSHOT=FILE keeps both screens (what a user saw) in FILE.
        if let path = ProcessInfo.processInfo.environment["PROGRESS_SCREENSHOT"] {
            try? (resolvingScreen + "\n----- later, the layer held at its share -----\n\n" + downloadScreen).write(toFile: path, atomically: true, encoding: .utf8)
        }
        let rows = downloadScreen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.contains { $0.hasPrefix("0/1 layers  ") && $0.contains(" MB / 6.0 MB  ") && $0.contains("%") && $0.contains("ETA ") }, "\(downloadScreen)")
        #expect(rows.allSatisfy { $0.count <= 100 })

        #expect(terminal.waitForExit() == 0, "\((try? terminal.screen()) ?? "")")
        let final = try terminal.screen()
        #expect(final.components(separatedBy: "resolving on 3 vantages").count == 2, "each step once:\n\(final)")
        #expect(final.contains("layer \(short) verified (6.0 MB)"), "\(final)")
        #expect(final.contains("verdict: AGREE"), "\(final)")
        // The live block was cleared, not scrolled away: no row of it is left.
        #expect(!final.contains("waiting for an answer…") && !final.contains("ETA") && !final.contains("33%"), "\(final)")
        #expect(FileManager.default.fileExists(atPath: output))
    }

    /// stderr a pipe (a CI log): a plain line at each step, the held layer's share at most every
    /// two seconds, no escape sequence.
    @Test func pipeGetsPlainLinesAtABoundedRate() async throws {
        let setup = try await Self.setUp(repository: "progress/pipe", stallSeconds: 5)
        defer { setup.proxy.stop() }
        let result = try setup.lab.run(
            ["pull", setup.reference, "--output", setup.lab.home.file("out.tar"), "--vantages", setup.vantages, "--insecure-registry", setup.proxy.host])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let short = String(setup.layer.prefix(19)) + "…"
        #expect(lines.contains("resolving on 3 vantages: direct, http-proxy, socks"), "\(result.stderr)")
        for name in ["direct", "http-proxy", "socks"] {
            #expect(lines.contains { $0.hasPrefix("vantage \(name) answered in ") && $0.hasSuffix(" s: " + (try! Self.topDigest(of: $0))) }, "\(name): \(result.stderr)")
        }
        let held = lines.filter { $0.hasPrefix("layer \(short) ") && $0.contains(" MB / 6.0 MB ") && !$0.contains(" 0% ") && $0.hasSuffix("/s") }
        #expect(!held.isEmpty, "the held layer's share was never logged: \(result.stderr)")
        // Bounded: a line per two seconds of a five-second hold (and one for the overall count).
        #expect(held.count <= 4, "\(held)")
        #expect(lines.contains("layer \(short) verified (6.0 MB)"), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}"), "a log gets no escape sequences")
        #expect(result.stderr.contains("verdict: AGREE"))
    }

    /// The digest at the end of a `vantage … answered in … s: DIGEST` line.
    static func topDigest(of line: String) throws -> String {
        String(line.split(separator: " ").last ?? "")
    }

    /// -q: errors and the verdict only, on success and on failure.
    @Test func quietPrintsOnlyTheVerdictAndErrors() async throws {
        let lab = try await Lab()
        let layout = try lab.makeImage(layers: [20_000], seed: 17)
        _ = try lab.push(layout, "progress/quiet", tag: "1")
        let vantages = try lab.vantagesFile()
        let good = try lab.run(["pull", "\(lab.registry.host)/progress/quiet:1", "--output", lab.home.file("q.tar"), "--vantages", vantages, "-q"] + lab.registryOptions())
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stderr.hasPrefix("verdict: AGREE"), "\(good.stderr)")
        #expect(good.stderr.split(separator: "\n").count == 1, "\(good.stderr)")
        #expect(good.stdout.contains("@sha256:"), "the result on stdout stays")

        let missing = try lab.run(["pull", "\(lab.registry.host)/progress/quiet:nope", "--output", lab.home.file("n.tar"), "--vantages", vantages, "-q"] + lab.registryOptions())
        #expect(missing.status == 2, "a tag no vantage finds is bad input: \(missing.stderr)")
        let lines = missing.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("verdict: INSUFFICIENT") == true, "\(missing.stderr)")
        #expect(lines.dropFirst().first?.hasPrefix("3tofu: error: ") == true, "\(missing.stderr)")
        #expect(!missing.stderr.contains("resolving on") && !missing.stderr.contains("route"), "no progress, no table: \(missing.stderr)")

        let contradiction = try lab.run(["pull", "x", "--output", lab.home.file("c.tar"), "-q", "-v"])
        #expect(contradiction.status == 2 && contradiction.stderr.contains("contradict"), "\(contradiction.stderr)")
    }

    /// -v: one line per HTTP exchange per vantage (method, URL without query, status, bytes, time),
    /// never a header value: against a registry with htpasswd, the password and the token stay out.
    @Test func verboseShowsEachExchangeAndNoSecret() async throws {
        let lab = try await Lab([.plainHTTP, .htpasswd(user: "reader", password: "s3cret-pass-16")])
        let layout = try lab.makeImage(layers: [20_000], seed: 18)
        _ = try lab.push(layout, "progress/verbose", tag: "1")
        let result = try lab.run(
            ["pull", "\(lab.registry.host)/progress/verbose:1", "--output", lab.home.file("v.tar"), "--vantages", try lab.vantagesFile(), "--debug"]
                + lab.registryOptions())
        #expect(result.status == 0, "\(result.stderr)")
        let exchanges = result.stderr.split(separator: "\n").filter { $0.hasPrefix("http ") }
        for name in ["direct", "http-proxy", "socks"] {
            let manifest = exchanges.filter { $0.hasPrefix("http \(name): GET http://\(lab.registry.host)/v2/progress/verbose/manifests/1 → 200, ") }
            #expect(!manifest.isEmpty, "\(name): \(exchanges)")
            #expect(manifest.allSatisfy { $0.hasSuffix(" s") && $0.contains(" B, ") }, "\(manifest)")
            #expect(exchanges.contains { $0.hasPrefix("http \(name): GET http://\(lab.registry.host)/v2/") && $0.contains("→ 401") }, "the challenge: \(exchanges)")
        }
        #expect(exchanges.contains { $0.hasPrefix("http direct: GET ") && $0.contains("/blobs/" + layout.layerDigests[0] + " → 200, ") }, "\(exchanges)")
        let secret = Data("reader:s3cret-pass-16".utf8).base64EncodedString()
        for forbidden in ["s3cret-pass-16", secret, "Authorization", "Basic "] {
            #expect(!result.stderr.contains(forbidden), "\(forbidden) in \(result.stderr)")
        }
        let plain = try lab.run(
            ["pull", "\(lab.registry.host)/progress/verbose:1", "--output", lab.home.file("w.tar"), "--vantages", try lab.vantagesFile()] + lab.registryOptions())
        #expect(!plain.stderr.contains("http direct:"), "without -v no exchange is shown")
    }
}
