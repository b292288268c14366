import Foundation

/// The fields of a formula API document (`https://formulae.brew.sh/api/formula/NAME.json`) that
/// bottle verification uses. Decoding is strict only about those fields.
public struct FormulaInfo: Sendable, Equatable, Decodable {
    public struct Versions: Sendable, Equatable, Decodable {
        public var stable: String
    }

    public struct BottleFile: Sendable, Equatable, Decodable {
        public var url: String?
        public var sha256: String
    }

    public struct BottleSpec: Sendable, Equatable, Decodable {
        public var rebuild: Int?
        public var files: [String: BottleFile]
    }

    public struct Bottles: Sendable, Equatable, Decodable {
        public var stable: BottleSpec?
    }

    public var name: String
    public var versions: Versions
    public var revision: Int?
    public var bottle: Bottles?

    /// `versions.stable`, with `_REVISION` when the revision is above 0.
    public var packageVersion: String { HomebrewNaming.packageVersion(versions.stable, revision: revision ?? 0) }
    public var rebuild: Int { bottle?.stable?.rebuild ?? 0 }
    /// The bottle tags the API lists, sorted.
    public var tags: [String] { (bottle?.stable?.files.keys).map { $0.sorted() } ?? [] }

    /// Decodes a formula API document; the error says which field is missing.
    public static func decode(_ data: Data, source: String) throws -> FormulaInfo {
        do {
            return try JSONDecoder().decode(FormulaInfo.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let path = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw CoordinatorError(.badInput, "\(source) is not a formula API document: it has no '\(path)'; check --formula-api")
        } catch {
            throw CoordinatorError(.badInput, "\(source) is not a formula API document (\(error)); check --formula-api")
        }
    }
}
