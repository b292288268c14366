import Agreement
import Foundation
import History
import Report
import Testing

/// The history on real SQLite files: recorded runs come back for the time rules, a repeated
/// import is skipped, concurrent writers both land, a corrupt or newer file is a clear error.
@Suite struct HistoryStoreTests {
    static let digestA = "sha256:" + String(repeating: "a", count: 64)
    static let digestB = "sha256:" + String(repeating: "b", count: 64)

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "history-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func report(
        _ time: String, digest: String = digestA, verdict: Agreement.Verdict = .agree, reference: String = "r.example/app:1", policy: Policy? = nil,
        seen: [String]? = nil
    ) -> AgreementReport {
        let image = { (digest: String) in
            ObservedSubject.image(ObservedImage(topDigest: digest, topMediaType: "application/vnd.oci.image.manifest.v1+json", platformManifestDigest: nil, configDigest: digest, layers: []))
        }
        let seenDigests = seen ?? [digest, digest, digest]
        let vantages = seenDigests.enumerated().map { index, seenDigest in
            AgreementReport.VantageEntry(name: "v\(index)", kind: "local", route: "direct", status: .ok, error: nil, observed: image(seenDigest), evidence: nil, seconds: 0.1)
        }
        let usedPolicy = policy ?? Policy(name: "strict", description: "", minAgreeing: 3, maxUnavailable: 0)
        return AgreementReport(
            tool: .init(version: "test"), createdAt: time, subject: .init(kind: .image, reference: reference, platform: "linux/amd64"),
            policy: .init(usedPolicy, usedInsecureRegistry: false), verdict: verdict, reason: "r", agreed: verdict == .agree ? image(digest) : nil,
            vantages: vantages, comparisons: [], artifact: nil)
    }

    @Test func recordedRunsComeBackForTheTimeRules() throws {
        let path = try Self.directory() + "/state/3tofu/history.sqlite"
        let store = try HistoryStore(path: path)
        try store.record(Self.report("2026-11-01T10:00:00Z"), source: "local")
        try store.record(Self.report("2026-11-02T10:00:00Z", digest: Self.digestB), source: "local")
        // The vantages disagreed: recorded, but not a day of agreement.
        try store.record(Self.report("2026-11-02T11:00:00Z", verdict: .disagree, seen: [Self.digestA, Self.digestB, Self.digestA]), source: "local")
        // Refused only for its short history: the vantages agreed, so the day counts.
        let threeDays = Policy(name: "three-days", description: "", minAgreeing: 3, maxUnavailable: 0).with(TimeRules(minDistinctDays: 3))
        try store.record(Self.report("2026-11-03T10:00:00Z", verdict: .insufficient, policy: threeDays), source: "local")
        try store.record(Self.report("2026-11-03T10:00:00Z", reference: "other.example/x:1"), source: "local")

        // Reopened: the schema is migrated once, the runs are still there.
        let again = try HistoryStore(path: path)
        let runs = try again.agreedRuns(kind: .image, reference: "r.example/app:1", platform: "linux/amd64")
        #expect(runs.map(\.time) == ["2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "2026-11-03T10:00:00Z"])
        #expect(runs.map(\.digest) == [Self.digestA, Self.digestB, Self.digestA])
        #expect(runs[0].vantages == ["v0", "v1", "v2"])
        #expect(try again.runs(reference: "r.example/app:1").count == 4)

        let timeline = HistoryTimeline(runs: runs)
        #expect(timeline.entries.map(\.digest) == [Self.digestA, Self.digestB])
        #expect(timeline.entries[0].days == ["2026-11-01", "2026-11-03"])
        #expect(timeline.moves.map(\.to) == [Self.digestB, Self.digestA])
    }

    @Test func theSameReportImportedTwiceIsRecordedOnce() throws {
        let store = try HistoryStore(path: try Self.directory() + "/h.sqlite")
        let report = Self.report("2026-11-01T10:00:00Z")
        #expect(try store.record(report, source: "import: k") == true)
        #expect(try store.record(report, source: "import: k") == false)
        #expect(try store.runs(reference: "r.example/app:1").count == 1)
    }

    @Test func twoWritersAtOnceBothLand() async throws {
        let path = try Self.directory() + "/h.sqlite"
        _ = try HistoryStore(path: path)
        // Two stores: two connection pools on one WAL file, as two processes have.
        let first = try HistoryStore(path: path)
        let second = try HistoryStore(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, store) in [first, second].enumerated() {
                group.addTask {
                    for run in 0..<50 {
                        try store.record(Self.report(String(format: "2026-11-%02dT10:00:%02dZ", index + 1, run)), source: "local")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try first.runs(reference: "r.example/app:1").count == 100)
    }

    @Test func aCorruptFileIsAClearError() throws {
        let path = try Self.directory() + "/h.sqlite"
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        do {
            _ = try HistoryStore(path: path)
            Issue.record("a corrupt history was opened")
        } catch let error as HistoryError {
            #expect(error.kind == .corrupt)
            #expect(error.description.contains(path) && error.description.contains("move it aside"), "\(error)")
        }
        // Nothing was rewritten: the file is as it was.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(repeating: 0x41, count: 8192))
    }

    @Test func aNewerSchemaIsRefusedNotRewritten() throws {
        let path = try Self.directory() + "/h.sqlite"
        _ = try HistoryStore(path: path)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"insert into grdb_migrations values ('v99')\"); c.commit()", path]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        #expect(throws: HistoryError.self) { _ = try HistoryStore(path: path) }
    }

    @Test func theDefaultPathFollowsTheEnvironment() {
        #expect(HistoryStore.defaultPath(environment: ["THREETOFU_HISTORY": "/x/h.sqlite", "HOME": "/home/u"]) == "/x/h.sqlite")
        #expect(HistoryStore.defaultPath(environment: ["XDG_STATE_HOME": "/s", "HOME": "/home/u"]) == "/s/3tofu/history.sqlite")
        #expect(HistoryStore.defaultPath(environment: ["XDG_STATE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.local/state/3tofu/history.sqlite")
    }
}

/// A history another process keeps locked past the wait: a clear error naming the file, not a hang.
@Suite struct HistoryLockTests {
    @Test func aDatabaseLockedTooLongIsAClearError() throws {
        let path = try HistoryStoreTests.directory() + "/h.sqlite"
        let store = try HistoryStore(path: path)
        // Another process takes the write lock and holds it until its stdin closes.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()",
            path,
        ]
        let input = Pipe()
        let output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        defer {
            try? input.fileHandleForWriting.close()
            holder.waitUntilExit()
        }
        let line = output.fileHandleForReading.availableData
        #expect(String(decoding: line, as: UTF8.self).hasPrefix("locked"))
        do {
            try store.record(HistoryStoreTests.report("2026-11-01T10:00:00Z"), source: "local")
            Issue.record("recorded while another process held the lock")
        } catch let error as HistoryError {
            #expect(error.kind == .locked, "\(error)")
            #expect(error.description.contains(path) && error.description.contains("--no-history"), "\(error)")
        }
    }
}
