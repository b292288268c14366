import Agreement
import Crypto
import Foundation
import GRDB
import Report

/// The observation history: every verification's report and what each vantage observed, in one
/// SQLite file (WAL, so a timer's `watch` and a manual run write at once). The schema is versioned
/// and migrated (`DatabaseMigrator`); a database of a newer schema is refused, never rewritten.
public final class HistoryStore: Sendable {
    public let path: String
    let pool: DatabasePool

    /// `$THREETOFU_HISTORY`, else `$XDG_STATE_HOME/3tofu/history.sqlite`, else `~/.local/state/3tofu/history.sqlite`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let path = environment["THREETOFU_HISTORY"], !path.isEmpty { return path }
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/3tofu/history.sqlite" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/3tofu/history.sqlite"
    }

    /// Opens (creating it and its directory when absent) and migrates the history at `path`.
    public init(path: String) throws {
        self.path = path
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            var configuration = Configuration()
            // Another process (a timer's watch) may be writing: wait for it rather than fail.
            configuration.busyMode = .timeout(15)
            configuration.label = "3tofu history"
            pool = try DatabasePool(path: path, configuration: configuration)
            let migrator = Self.migrator
            if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
                throw HistoryError(kind: .newerSchema, path: path, message: "it was written by a newer 3tofu (unknown schema version); use that version, or --history FILE for another file")
            }
            try migrator.migrate(pool)
        } catch {
            throw HistoryError(error, path: path)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("reference", .text).notNull()
                table.column("platform", .text).notNull()
                table.column("verdict", .text).notNull()
                // The digest the vantages agreed on before any time rule; null when they did not.
                table.column("agreedDigest", .text)
                table.column("policyName", .text).notNull()
                table.column("policySHA256", .text).notNull()
                // "local", or "import: <key fingerprint>" for a signed report from another machine.
                table.column("source", .text).notNull()
                // Imports only: the same report imported twice is recorded once (local runs are never merged).
                table.column("reportSHA256", .text).unique(onConflict: .ignore)
                table.column("report", .text).notNull()
            }
            try db.create(index: "run_subject", on: "run", columns: ["kind", "reference", "platform", "time"])
            try db.create(table: "observation") { table in
                table.column("runId", .integer).notNull().references("run", onDelete: .cascade)
                table.column("vantage", .text).notNull()
                table.column("vantageKind", .text).notNull()
                table.column("route", .text).notNull()
                table.column("status", .text).notNull()
                table.column("digest", .text)
                table.column("platformManifest", .text)
                table.column("config", .text)
                table.column("remoteIP", .text)
                table.column("tlsLeaf", .text)
                table.column("error", .text)
            }
            try db.create(index: "observation_run", on: "observation", columns: ["runId"])
        }
        return migrator
    }

    /// Records one verification from its report (unsigned as stored; a signature is kept with
    /// the report). Returns false when the same report was recorded before (an import repeated).
    @discardableResult
    public func record(_ report: AgreementReport, source: String) throws -> Bool {
        let data = try ReportFile.encode(report)
        let text = String(decoding: data, as: UTF8.self)
        let sha256 = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let agreed = HistoryFacts.vantageAgreement(report)
        do {
            return try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO run (time, kind, reference, platform, verdict, agreedDigest, policyName, policySHA256, source, reportSHA256, report)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        report.createdAt, report.subject.kind.rawValue, report.subject.reference, report.subject.platform ?? "", report.verdict.rawValue,
                        agreed?.digest, report.policy.name, report.policy.sha256, source, source == "local" ? nil : sha256, text,
                    ])
                guard db.changesCount > 0 else { return false }
                let runId = db.lastInsertedRowID
                for vantage in report.vantages {
                    let facts = HistoryFacts.observed(vantage.observed)
                    try db.execute(
                        sql: """
                            INSERT INTO observation (runId, vantage, vantageKind, route, status, digest, platformManifest, config, remoteIP, tlsLeaf, error)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            runId, vantage.name, vantage.kind, vantage.route, vantage.status.rawValue, facts.digest, facts.platformManifest, facts.config,
                            vantage.evidence?.remoteIP, vantage.evidence?.tlsCertificateSHA256.first, vantage.error,
                        ])
                }
                return true
            }
        } catch {
            throw HistoryError(error, path: path)
        }
    }

    /// The earlier runs the vantages agreed on for one subject, oldest first: what the time rules count.
    public func agreedRuns(kind: AgreementReport.Subject.Kind, reference: String, platform: String?) throws -> [TimeRules.PastRun] {
        do {
            return try pool.read { db in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT run.id, run.time, run.agreedDigest, run.source,
                               (SELECT group_concat(vantage, char(10)) FROM (SELECT vantage FROM observation
                                 WHERE observation.runId = run.id AND observation.status = 'ok' ORDER BY vantage)) AS vantages
                        FROM run WHERE kind = ? AND reference = ? AND platform = ? AND agreedDigest IS NOT NULL ORDER BY time, id
                        """,
                    arguments: [kind.rawValue, reference, platform ?? ""])
                return rows.map { row in
                    let vantages: String? = row["vantages"]
                    return TimeRules.PastRun(
                        time: row["time"], digest: row["agreedDigest"], vantages: (vantages ?? "").split(separator: "\n").map(String.init), source: row["source"])
                }
            }
        } catch {
            throw HistoryError(error, path: path)
        }
    }

    /// Every earlier agreeing run of one kind on one platform (a bottle tag), with its reference, oldest first.
    public func agreedRuns(kind: AgreementReport.Subject.Kind, platform: String?) throws -> [(reference: String, run: TimeRules.PastRun)] {
        do {
            return try pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT run.reference, run.time, run.agreedDigest, run.source,
                               (SELECT group_concat(vantage, char(10)) FROM (SELECT vantage FROM observation
                                 WHERE observation.runId = run.id AND observation.status = 'ok' ORDER BY vantage)) AS vantages
                        FROM run WHERE kind = ? AND platform = ? AND agreedDigest IS NOT NULL ORDER BY time, id
                        """,
                    arguments: [kind.rawValue, platform ?? ""]
                ).map { row in
                    let vantages: String? = row["vantages"]
                    return (
                        row["reference"],
                        TimeRules.PastRun(
                            time: row["time"], digest: row["agreedDigest"], vantages: (vantages ?? "").split(separator: "\n").map(String.init),
                            source: row["source"])
                    )
                }
            }
        } catch {
            throw HistoryError(error, path: path)
        }
    }

    /// One recorded run, for `history` and `history export`.
    public struct RecordedRun: Sendable {
        public var time: String
        public var platform: String
        public var verdict: String
        public var agreedDigest: String?
        public var source: String
        public var report: AgreementReport
    }

    /// Every recorded run for a reference (all platforms, every verdict), oldest first.
    public func runs(reference: String) throws -> [RecordedRun] {
        do {
            return try pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT time, platform, verdict, agreedDigest, source, report FROM run WHERE reference = ? ORDER BY time, id",
                    arguments: [reference]
                ).map { row in
                    let text: String = row["report"]
                    return RecordedRun(
                        time: row["time"], platform: row["platform"], verdict: row["verdict"], agreedDigest: row["agreedDigest"], source: row["source"],
                        report: try JSONDecoder().decode(AgreementReport.self, from: Data(text.utf8)))
                }
            }
        } catch {
            throw HistoryError(error, path: path)
        }
    }
}
