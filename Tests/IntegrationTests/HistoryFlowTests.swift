import Foundation
import History
import Report
import Testing
import TestSupport

/// Time as a vantage, end to end: the built 3tofu run under Debian's `faketime` on simulated
/// days against a real registry through three routes, with the history in a real SQLite file.
@Suite("history: watch on days, three-days policy, moved tags, sharing", .serialized)
struct HistoryFlowTests {
    /// The built 3tofu with its clock set to `time` (UTC) by faketime, as a user's timer would run it on that day.
    static func run(_ lab: Lab, at time: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ThreeTofuCLI.Result {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": lab.home.path, "THREETOFU_CACHE": lab.home.path + "/cache", "TZ": "UTC"]
        env.merge(environment) { _, new in new }
        let output = try Shell.runCapturing(["faketime", "-f", "@" + time, try ThreeTofuCLI.executable] + arguments, env: env, timeout: .seconds(300))
        return ThreeTofuCLI.Result(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }

    @Test func threeWatchedDaysMeetThreeDaysTwoDoNotAndAMovedTagIsRefused() async throws {
        let lab = try await Lab()
        let first = try lab.makeImage(layers: [20_000], seed: 1)
        _ = try lab.push(first, "time/app", tag: "1")
        let reference = "\(lab.registry.host)/time/app:1"
        let options = ["--vantages", try lab.vantagesFile()] + (try lab.registryOptions())

        for day in ["2026-11-01 06:00:00", "2026-11-02 06:00:00"] {
            let watch = try Self.run(lab, at: day, ["watch", reference] + options)
            #expect(watch.status == 0, "\(watch.stderr)")
            #expect(watch.stdout.contains("agree \(first.topDigest)"), "\(watch.stdout)")
        }
        // Two days: not enough. Exit 3, nothing written, and the message says when, how many, how.
        let output = lab.home.file("app.tar")
        let early = try Self.run(lab, at: "2026-11-02 07:00:00", ["pull", reference, "--output", output, "--policy", "three-days"] + options)
        #expect(early.status == 3, "\(early.stderr)")
        #expect(early.stderr.contains("first seen 2026-11-01T06:00"), "\(early.stderr)")
        #expect(early.stderr.contains("1 more day needed, the earliest on 2026-11-03"), "\(early.stderr)")
        #expect(early.stderr.contains("3tofu watch \(reference)"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))

        // The third day: agreed, written, and the report shows the three days and verifies.
        #expect(try Self.run(lab, at: "2026-11-03 06:00:00", ["watch", reference] + options).status == 0)
        let reportPath = lab.home.file("report.json")
        let pull = try Self.run(lab, at: "2026-11-03 08:00:00", ["pull", reference, "--output", output, "--policy", "three-days", "--report", reportPath] + options)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(FileManager.default.fileExists(atPath: output))
        try ReportSchema.validate(reportPath: reportPath)
        let report = try ReportFile.read(reportPath)
        #expect(report.policy.minDistinctDays == 3)
        #expect(Set(report.history?.runs.map { String($0.time.prefix(10)) } ?? []) == ["2026-11-01", "2026-11-02", "2026-11-03"])
        #expect(report.reason.contains("Seen on 3 distinct UTC days since 2026-11-01T06:00"), "\(report.reason)")
        let verify = try lab.run(["report", "verify", reportPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("time rules were recomputed"), "\(verify.stdout)")
        let shown = try lab.run(["report", "show", reportPath])
        #expect(shown.stdout.contains("2026-11-01, 2026-11-02, 2026-11-03"), "\(shown.stdout)")
        // A report whose history was cut to one day no longer follows.
        var cut = report
        cut.history?.runs.removeAll { !$0.time.hasPrefix("2026-11-03") }
        let cutPath = lab.home.file("cut.json")
        try ReportFile.write(cut, to: cutPath)
        #expect(try lab.run(["report", "verify", cutPath]).status == 1)

        // The tag is re-pointed: another image pushed to the same tag, watched the next day.
        let second = try lab.makeImage(layers: [21_000], seed: 2)
        _ = try lab.push(second, "time/app", tag: "1")
        #expect(try Self.run(lab, at: "2026-11-04 06:00:00", ["watch", reference] + options).status == 0)
        let history = try lab.run(["history", reference])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains("MOVED at 2026-11-04T06:00"), "\(history.stdout)")
        #expect(history.stdout.contains("\(first.topDigest) -> \(second.topDigest)"), "\(history.stdout)")
        let json = try lab.run(["history", reference, "--json"])
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let platforms = document?["platforms"] as? [[String: Any]]
        #expect(((platforms?.first?["timeline"] as? [String: Any])?["moves"] as? [Any])?.count == 1)

        let refusing = lab.home.file("refuse.toml")
        try """
            name = "refuse-moves"
            description = "strict, and a moved tag is refused"
            min_agreeing = 3
            max_unavailable = 0
            blob_verification = "source"
            require_route_kinds = []
            allow_insecure_registries = true
            tag_moved = "refuse"
            """.write(toFile: refusing, atomically: true, encoding: .utf8)
        let moved = lab.home.file("moved.tar")
        let refused = try Self.run(lab, at: "2026-11-04 07:00:00", ["pull", reference, "--output", moved, "--policy", refusing] + options)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("refuses a moved tag"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: moved))
        // Without the rule the same pull goes through: the refusal was the time rule's.
        #expect(try Self.run(lab, at: "2026-11-04 07:00:00", ["pull", reference, "--output", moved] + options).status == 0)
    }

    @Test func badTimeRulesAreExit2WithFileAndLine() async throws {
        let home = try TemporaryDirectory(prefix: "home")
        for (line, status) in [("min_first_seen = \"soon\"", "min_first_seen"), ("min_distinct_days = -2", "min_distinct_days"), ("tag_moved = \"maybe\"", "tag_moved")] {
            let policy = home.file("bad.toml")
            try """
                name = "bad"
                description = "d"
                min_agreeing = 1
                max_unavailable = 0
                blob_verification = "source"
                require_route_kinds = []
                allow_insecure_registries = true
                \(line)
                """.write(toFile: policy, atomically: true, encoding: .utf8)
            let result = try ThreeTofuCLI.run(["resolve", "127.0.0.1:9/x:1", "--policy", policy], home: home.path, timeout: .seconds(60))
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("bad.toml:8") && result.stderr.contains(status), "\(result.stderr)")
        }
    }

    @Test func aCorruptHistoryCostsTheArtifactOnlyWhenThePolicyNeedsIt() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [10_000])
        _ = try lab.push(image, "time/corrupt", tag: "1")
        let reference = "\(lab.registry.host)/time/corrupt:1"
        let options = ["--vantages", try lab.vantagesFile()] + (try lab.registryOptions())
        let history = lab.home.file("history.sqlite")
        try Data(repeating: 0x42, count: 4096).write(to: URL(fileURLWithPath: history))

        let strict = try lab.run(["resolve", reference, "--history", history] + options)
        #expect(strict.status == 0, "\(strict.stderr)")
        #expect(strict.stderr.contains("not recorded in the history") && strict.stderr.contains("move it aside"), "\(strict.stderr)")
        let timed = try lab.run(["resolve", reference, "--history", history, "--policy", "three-days"] + options)
        #expect(timed.status == 3, "\(timed.stderr)")
        #expect(timed.stderr.contains(history) && timed.stderr.contains("needs the history"), "\(timed.stderr)")
        #expect(timed.stdout.isEmpty)
        let off = try lab.run(["resolve", reference, "--no-history", "--policy", "three-days"] + options)
        #expect(off.status == 2, "\(off.stderr)")
    }

    @Test func twoWatchersWriteOneHistoryAtOnce() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [10_000])
        _ = try lab.push(image, "time/busy", tag: "1")
        let reference = "\(lab.registry.host)/time/busy:1"
        let options = ["--vantages", try lab.vantagesFile()] + (try lab.registryOptions())
        let arguments = ["watch", reference, reference, reference, reference] + options
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<2 { group.addTask { try lab.run(arguments).status } }
            var statuses: [Int32] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(statuses == [0, 0])
        let store = try HistoryStore(path: lab.home.file(".local/state/3tofu/history.sqlite"))
        #expect(try store.runs(reference: reference).count == 8)
    }

    @Test func importTakesOnlyReportsSignedByTheGivenKey() async throws {
        let lab = try await Lab()
        let image = try lab.makeImage(layers: [10_000])
        _ = try lab.push(image, "time/shared", tag: "1")
        let reference = "\(lab.registry.host)/time/shared:1"
        let options = ["--vantages", try lab.vantagesFile()] + (try lab.registryOptions())
        #expect(try Self.run(lab, at: "2026-11-01 06:00:00", ["watch", reference] + options).status == 0)
        #expect(try Self.run(lab, at: "2026-11-02 06:00:00", ["watch", reference] + options).status == 0)
        let key = lab.home.file("watcher")
        let other = lab.home.file("other")
        #expect(try lab.run(["keygen", "--output", key]).status == 0)
        #expect(try lab.run(["keygen", "--output", other]).status == 0)
        let shared = lab.home.file("shared")
        let export = try lab.run(["history", "export", reference, "--output-dir", shared, "--sign-key", key])
        #expect(export.status == 0, "\(export.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: shared).sorted().map { shared + "/" + $0 }
        #expect(files.count == 2)

        let verifier = lab.home.file("verifier.sqlite")
        let wrong = try lab.run(["history", "import"] + files + ["--key", other + ".pub", "--history", verifier])
        #expect(wrong.status == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("not by the given key") && wrong.stderr.contains("nothing was imported"), "\(wrong.stderr)")
        // Refused before anything was opened: the verifier's history holds nothing.
        #expect(try !FileManager.default.fileExists(atPath: verifier) || HistoryStore(path: verifier).runs(reference: reference).isEmpty)

        let right = try lab.run(["history", "import"] + files + ["--key", key + ".pub", "--history", verifier])
        #expect(right.status == 0, "\(right.stderr)")
        let runs = try HistoryStore(path: verifier).runs(reference: reference)
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.source.hasPrefix("import: SHA256:") })
        // Imported days count for the time rules on the verifier's machine.
        let pull = try Self.run(
            lab, at: "2026-11-03 06:00:00", ["resolve", reference, "--policy", "three-days", "--history", verifier] + options)
        #expect(pull.status == 0, "\(pull.stderr)")
    }

    @Test func aFileWatchedOnDaysMeetsThreeDaysForFetch() async throws {
        let site = try await FetchTests.Site()
        defer { site.stop() }
        let lab = site.lab
        let vantages = ["--vantages", try lab.vantagesFile()]
        for day in ["2026-11-01 06:00:00", "2026-11-02 06:00:00"] {
            let watch = try Self.run(lab, at: day, ["watch", "--url", site.fileURL] + vantages)
            #expect(watch.status == 0, "\(watch.stderr)")
            #expect(watch.stdout.contains("agree \(site.sha256)") || watch.stdout.contains("agree sha256:\(site.sha256)"), "\(watch.stdout)")
        }
        // watch keeps no file: only the history.
        #expect(!FileManager.default.fileExists(atPath: lab.home.file("tool.tar.gz")))
        let output = lab.home.file("tool.tar.gz")
        let early = try Self.run(lab, at: "2026-11-02 07:00:00", ["fetch", site.fileURL, "--output", output, "--policy", "three-days"] + vantages)
        #expect(early.status == 3, "\(early.stderr)")
        #expect(early.stderr.contains("1 more day needed") && early.stderr.contains("3tofu watch --url \(site.fileURL)"), "\(early.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(try Self.run(lab, at: "2026-11-03 06:00:00", ["watch", "--url", site.fileURL] + vantages).status == 0)
        let fetch = try Self.run(lab, at: "2026-11-03 07:00:00", ["fetch", site.fileURL, "--output", output, "--policy", "three-days"] + vantages)
        #expect(fetch.status == 0, "\(fetch.stderr)")
        #expect(try sha256sum(output) == site.sha256)
    }

    @Test func aBundleAppliesTheTimeRulesToEachImage() async throws {
        let lab = try await Lab()
        let old = try lab.makeImage(layers: [10_000], seed: 3)
        let new = try lab.makeImage(layers: [11_000], seed: 4)
        _ = try lab.push(old, "time/old", tag: "1")
        _ = try lab.push(new, "time/new", tag: "1")
        let options = ["--vantages", try lab.vantagesFile()] + (try lab.registryOptions())
        let list = lab.home.file("images.txt")
        try "\(lab.registry.host)/time/old:1\n\(lab.registry.host)/time/new:1\n".write(toFile: list, atomically: true, encoding: .utf8)
        for day in ["2026-11-01 06:00:00", "2026-11-02 06:00:00"] {
            #expect(try Self.run(lab, at: day, ["watch", "\(lab.registry.host)/time/old:1"] + options).status == 0)
        }
        // The old image has its days, the new one was never watched: the bundle is refused whole.
        let output = lab.home.file("bundle")
        let bundle = try Self.run(lab, at: "2026-11-03 06:00:00", ["pull", "--images-from", list, "--format", "oci", "--output", output, "--policy", "three-days"] + options)
        #expect(bundle.status == 3, "\(bundle.stderr)")
        #expect(bundle.stderr.contains("time/new:1") && bundle.stderr.contains("2 more days needed"), "\(bundle.stderr)")
        #expect(!FileManager.default.fileExists(atPath: output + "/index.json"))
    }

    @Test func aBottleWatchedOnDaysMeetsThreeDays() async throws {
        let fixture = try await BottleFixture()
        defer { fixture.stop() }
        try fixture.publish("hello", version: "1.2.3")
        let lab = fixture.lab
        let vantages = try lab.vantagesFile()
        let brewfile = lab.home.file("Brewfile")
        try "brew \"hello\"\n".write(toFile: brewfile, atomically: true, encoding: .utf8)
        let watch = [
            "watch", "--brewfile", brewfile, "--tag", "arm64_sonoma", "--registry", fixture.registryArgument, "--formula-api", fixture.formulaAPI,
            "--vantages", vantages, "--insecure-registry", lab.registry.host,
        ]
        let bottle = [
            "bottle", "hello", "--tag", "arm64_sonoma", "--output", lab.home.file("bottles"), "--registry", fixture.registryArgument,
            "--formula-api", fixture.formulaAPI, "--vantages", vantages, "--insecure-registry", lab.registry.host, "--policy", "three-days",
        ]
        for day in ["2026-11-01 06:00:00", "2026-11-02 06:00:00"] {
            let watched = try Self.run(lab, at: day, watch)
            #expect(watched.status == 0, "\(watched.stderr)")
            #expect(watched.stdout.contains("hello (arm64_sonoma): agree"), "\(watched.stdout)")
        }
        let early = try Self.run(lab, at: "2026-11-02 07:00:00", bottle)
        #expect(early.status == 3, "\(early.stderr)")
        #expect(early.stderr.contains("1 more day needed") && early.stderr.contains("3tofu watch --brewfile FILE --tag arm64_sonoma"), "\(early.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: lab.home.file("bottles")).isEmpty)
        #expect(try Self.run(lab, at: "2026-11-03 06:00:00", watch).status == 0)
        let reportPath = lab.home.file("bottle.json")
        let third = try Self.run(lab, at: "2026-11-03 07:00:00", bottle + ["--report", reportPath])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try lab.run(["report", "verify", reportPath]).status == 0)
    }
}
