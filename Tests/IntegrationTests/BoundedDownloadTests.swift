import Foundation
import Report
import Testing
import TestSupport

/// Downloads stop at the size they were asked for (issue 14, part 3): a real registry behind
/// FaultProxy answers a layer with 256 MiB more than its descriptor says, and nginx-like file
/// serving does the same for `3tofu fetch`. The route fails (and says why), nothing past the
/// size is kept, and the server sees the client go away long before the padding is all sent.
@Suite("bounded downloads", .serialized)
struct BoundedDownloadTests {
    static let padding = 256 << 20
    /// Socket and libcurl buffers on the way; an unbounded client takes all 256 MiB.
    static let sentBound = 48 << 20

    /// The largest regular file under `directory` (the cache: blobs and partial downloads).
    static func largestFile(under directory: String) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return 0 }
        var largest = 0
        for case let name as String in walker {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            if attributes?[.type] as? FileAttributeType == .typeRegular, let size = attributes?[.size] as? Int { largest = max(largest, size) }
        }
        return largest
    }

    /// Every padded response's bytes once the proxy has finished them all.
    static func sent(_ proxy: FaultProxy, count: Int) async throws -> [Int] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while ContinuousClock.now < deadline {
            let sent = proxy.bytesSent()
            if sent.count >= count { return sent.map(\.bytes) }
            try await Task.sleep(for: .milliseconds(100))
        }
        return proxy.bytesSent().map(\.bytes)
    }

    struct Pull {
        let lab: Lab
        let proxy: FaultProxy
        let layer: TestImageLayout.Layer
        let output: String
        let cache: String
        let result: ThreeTofuCLI.Result
    }

    /// Pulls an image of `layers` through FaultProxy, which pads the first layer's body with
    /// 256 MiB the first `times` times it is asked for (nil: every time).
    static func pull(_ repository: String, layers: [Int], times: Int?, policy: String? = nil) async throws -> Pull {
        let lab = try await Lab()
        let proxy = try await FaultProxy(upstream: lab.registry.baseURL.absoluteString)
        let layout = try lab.makeImage(layers: layers, content: .incompressible)
        _ = try lab.push(layout, repository, tag: "1")
        let layer = layout.images[0].layers[0]
        try proxy.inject([.init(path: "/v2/\(repository)/blobs/" + layer.digest, times: times, .padBody(extra: padding, announce: false))])
        let output = lab.home.file("out.tar")
        let cache = lab.home.file("cache")
        var options = ["--report", lab.home.file("report.json")]
        if let policy {
            try policy.write(toFile: lab.home.file("policy.toml"), atomically: true, encoding: .utf8)
            options += ["--policy", lab.home.file("policy.toml")]
        }
        let result = try lab.run(
            ["pull", "\(proxy.host)/\(repository):1", "--output", output, "--vantages", try lab.vantagesFile(), "--insecure-registry", proxy.host]
                + options,
            environment: ["THREETOFU_CACHE": cache])
        return Pull(lab: lab, proxy: proxy, layer: layer, output: output, cache: cache, result: result)
    }

    @Test func aLayerThatDoesNotEndFailsThePullAtItsSize() async throws {
        let pull = try await Self.pull("bounded/app", layers: [23_456], times: nil)
        defer { pull.proxy.stop() }
        let result = pull.result
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("Its descriptor says \(pull.layer.size) bytes"), "\(result.stderr)")
        #expect(result.stderr.contains("not the bytes its digest names"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: pull.output))
        #expect(Self.largestFile(under: pull.cache) <= pull.layer.size, "a partial download grew past the layer's size")
        let padded = pull.proxy.faultsApplied().count
        let sent = try await Self.sent(pull.proxy, count: padded)
        #expect(padded >= 3 && sent.count == padded, "\(padded) padded responses, \(sent.count) finished")
        #expect(sent.allSatisfy { $0 < Self.sentBound }, "bytes sent per padded response: \(sent)")
        #expect(temporaryLeftovers(in: pull.lab.home.path).isEmpty)
    }

    /// One route sends too much once: its partial is deleted, another route's bytes are verified,
    /// and the pull succeeds (a resume on the bad prefix would have failed the hash).
    @Test func aRouteThatSendsTooMuchOnceIsLeftForAnother() async throws {
        let pull = try await Self.pull("bounded/once", layers: [300_000, 9_000], times: 1)
        defer { pull.proxy.stop() }
        #expect(pull.result.status == 0, "\(pull.result.stderr)")
        let inspect = try Shell.run(["skopeo", "inspect", "docker-archive:\(pull.output)"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(try archiveBlobsMatchTheirNames(pull.output) == [])
        let sent = try await Self.sent(pull.proxy, count: 1)
        #expect(sent.count == 1 && sent[0] < Self.sentBound, "bytes sent: \(sent)")
    }

    /// With every vantage hashing every layer, a route that sends more than a layer's size is
    /// tampering, as bytes that miss their digest are: the verdict is disagree, exit 1.
    @Test func everyVantageCountsALongerLayerAsTampering() async throws {
        let policy = """
            name = "every-vantage-test"
            description = "Every vantage hashes every layer."
            min_agreeing = 3
            max_unavailable = 0
            blob_verification = "every-vantage"
            require_route_kinds = []
            allow_insecure_registries = true

            """
        let pull = try await Self.pull("bounded/every", layers: [23_456], times: nil, policy: policy)
        defer { pull.proxy.stop() }
        #expect(pull.result.status == 1, "\(pull.result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: pull.output))
        let report = try ReportFile.read(pull.lab.home.file("report.json"))
        #expect(report.verdict == .disagree)
        let tampered = report.vantages.filter { $0.status == .tampered }
        #expect(tampered.count >= 2, "\(report.vantages.map { "\($0.name): \($0.status) \($0.error ?? "")" })")
        #expect(tampered.allSatisfy { $0.error?.contains("not the bytes its digest names") == true })
        let sent = try await Self.sent(pull.proxy, count: pull.proxy.faultsApplied().count)
        #expect(sent.allSatisfy { $0 < Self.sentBound }, "bytes sent per padded response: \(sent)")
    }

    /// `3tofu fetch` knows no size before the vantages agree: `--max-size` bounds every route.
    @Test func fetchStopsEveryRouteAtMaxSize() async throws {
        let lab = try await Lab()
        let site = lab.home.file("site")
        try FileManager.default.createDirectory(atPath: site, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 100_000).write(to: URL(fileURLWithPath: site + "/tool.tar.gz"))
        let server = try await FaultProxy(upstream: nil, serveFiles: site)
        defer { server.stop() }
        try server.inject([.init(path: "/tool.tar.gz", times: nil, .padBody(extra: Self.padding, announce: false))])
        let output = lab.home.file("tool.tar.gz")
        let cache = lab.home.file("cache")
        let result = try lab.run(
            ["fetch", server.baseURL + "/tool.tar.gz", "--output", output, "--vantages", try lab.vantagesFile(), "--max-size", "1M"],
            environment: ["THREETOFU_CACHE": cache])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("sent more than the 1048576 bytes expected"), "\(result.stderr)")
        #expect(result.stderr.contains("raise --max-size"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(Self.largestFile(under: cache) <= 1 << 20)
        let sent = try await Self.sent(server, count: 3)
        #expect(sent.count == 3 && sent.allSatisfy { $0 < Self.sentBound }, "bytes sent per route: \(sent)")
    }
}
