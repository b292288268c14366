import Agreement
import Crypto
import Foundation
import TOMLKit

/// Policies: the shipped ones by name (strict, tolerant, paranoid), or any TOML file.
/// The policy's SHA-256 is taken over its exact text and recorded in reports.
public enum PolicyFile {
    public static let defaultName = "strict"

    /// `--policy NAME|FILE`: a shipped policy's name, else a path to a policy file.
    public static func load(_ nameOrPath: String?) throws -> Policy {
        let choice = nameOrPath ?? defaultName
        if let text = ShippedPolicies.text[choice] {
            return try parse(text: text, path: "policies/\(choice).toml (built in)")
        }
        guard choice.contains("/") || choice.hasSuffix(".toml") || FileManager.default.fileExists(atPath: choice) else {
            throw ConfigurationError(
                file: choice,
                message: "no shipped policy of that name; use one of \(ShippedPolicies.names.joined(separator: ", ")) or the path of a policy file")
        }
        guard let data = FileManager.default.contents(atPath: choice), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: choice, message: "cannot read the policy file; check the path given to --policy")
        }
        return try parse(text: text, path: choice)
    }

    static let knownKeys: Set<String> = Set([
        "name", "description", "min_agreeing", "max_unavailable", "blob_verification", "require_route_kinds", "allow_insecure_registries",
    ]).union(PolicyTimeRules.keys)

    public static func parse(text: String, path: String) throws -> Policy {
        let parsed = try ParsedTOML(text: text, path: path)
        let table = parsed.table
        let map = parsed.map
        func error(_ field: String, _ message: String) -> ConfigurationError {
            ConfigurationError(file: path, line: map.line(ofTopLevelKey: field), field: field, message: message)
        }
        for key in table.keys where !knownKeys.contains(key) {
            throw error(key, "unknown field; a policy has \(knownKeys.sorted().joined(separator: ", "))")
        }
        func string(_ key: String) throws -> String {
            guard let value = table[key] else { throw error(key, "missing; every policy sets \(key)") }
            guard let string = value.string else { throw error(key, "must be a string, found \(value.type)") }
            return string
        }
        func count(_ key: String) throws -> Int {
            guard let value = table[key] else { throw error(key, "missing; every policy sets \(key)") }
            guard let number = value.int, number >= 0, number <= 1000 else {
                throw error(key, "must be a whole number from 0 to 1000")
            }
            return number
        }
        let name = try string("name")
        guard !name.isEmpty else { throw error("name", "must not be empty") }
        let description = try string("description")
        let minAgreeing = try count("min_agreeing")
        guard minAgreeing >= 1 else {
            throw error("min_agreeing", "must be at least 1: agreement needs at least one answer")
        }
        let maxUnavailable = try count("max_unavailable")
        let verificationText = try string("blob_verification")
        guard let verification = Policy.BlobVerification(rawValue: verificationText) else {
            throw error("blob_verification", "'\(verificationText)' is not one of \(Policy.BlobVerification.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        guard let kindsValue = table["require_route_kinds"] else {
            throw error("require_route_kinds", "missing; use [] for none")
        }
        guard let kindsArray = kindsValue.array else {
            throw error("require_route_kinds", "must be a list such as [\"ssh\", \"proxy\"]")
        }
        var kinds: [String] = []
        for element in kindsArray {
            guard let kind = element.string, VantageSpec.Kind(rawValue: kind) != nil else {
                throw error("require_route_kinds", "entries must be \(VantageSpec.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
            }
            kinds.append(kind)
        }
        guard let insecureValue = table["allow_insecure_registries"] else {
            throw error("allow_insecure_registries", "missing; set true or false")
        }
        guard let allowInsecure = insecureValue.bool else {
            throw error("allow_insecure_registries", "must be true or false")
        }
        let timeRules = try PolicyTimeRules.parse(table, error: error)
        let sha256 = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        return Policy(
            name: name, description: description, minAgreeing: minAgreeing, maxUnavailable: maxUnavailable,
            blobVerification: verification, requireRouteKinds: kinds, allowInsecureRegistries: allowInsecure, sha256: sha256)
            .with(timeRules)
    }
}
