import Foundation

/// Reads and writes reports as JSON with sorted keys (so reports diff cleanly), written whole or not at all.
public enum ReportFile {
    public static func encode(_ report: AgreementReport) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        var data = try encoder.encode(report)
        data.append(0x0a)
        return data
    }

    public static func write(_ report: AgreementReport, to path: String) throws {
        let data = try encode(report)
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).3tofu-tmp-\(UUID().uuidString.prefix(8))")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, path) != 0 {
                throw ReportError("cannot move the report into place at \(path): \(String(cString: strerror(errno)))")
            }
        } catch let error as ReportError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ReportError("cannot write the report to \(path): \(error.localizedDescription)")
        }
    }

    /// The most a report file may hold. A report lists a few vantages and an image's digests;
    /// even a bundle's largest is a few hundred KiB, so 16 MiB is generous and bounds memory.
    public static let maximumSize = 16 << 20

    /// The bytes of the report at `path`: a regular file (never a FIFO or device) of at most
    /// `maximumSize` bytes; otherwise `ReportError`.
    public static func readData(_ path: String) throws -> Data {
        try BoundedFile.readWhole(path, what: "the report", limit: maximumSize)
    }

    public static func read(_ path: String) throws -> AgreementReport {
        try decode(try readData(path), path: path)
    }

    /// Parses a report read with `readData`; `path` is for messages.
    public static func decode(_ data: Data, path: String) throws -> AgreementReport {
        do {
            let report = try JSONDecoder().decode(AgreementReport.self, from: data)
            guard report.schema == AgreementReport.schemaIdentifier else {
                throw ReportError("\(path) is a report of schema '\(report.schema)'; this 3tofu reads \(AgreementReport.schemaIdentifier)")
            }
            return report
        } catch let error as ReportError {
            throw error
        } catch {
            throw ReportError("\(path) is not a 3tofu agreement report: \(error.localizedDescription)")
        }
    }

    /// UTC timestamp as reports use it.
    public static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

/// A report that cannot be read, written or rendered.
public struct ReportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
