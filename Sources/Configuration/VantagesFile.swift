import Foundation
import TOMLKit

/// The vantages file (`[[vantage]]` tables, see DESIGN.md), parsed and validated.
public struct VantagesFile: Sendable, Equatable {
    public var path: String
    public var vantages: [VantageSpec]

    public init(path: String, vantages: [VantageSpec]) {
        self.path = path
        self.vantages = vantages
    }

    /// Where the vantages file is looked for: `--vantages`, then `$THREETOFU_VANTAGES`,
    /// then `~/.config/3tofu/vantages.toml`. Returns nil when none is given and the default is absent.
    public static func locate(explicit: String?, environment: [String: String]) -> String? {
        if let explicit { return expandTilde(explicit, environment: environment) }
        if let fromEnvironment = environment["THREETOFU_VANTAGES"], !fromEnvironment.isEmpty {
            return expandTilde(fromEnvironment, environment: environment)
        }
        let defaultPath = defaultPath(environment: environment)
        return FileManager.default.fileExists(atPath: defaultPath) ? defaultPath : nil
    }

    /// Where the vantages file is looked for when neither --vantages nor $THREETOFU_VANTAGES names
    /// one: `$XDG_CONFIG_HOME/3tofu/vantages.toml`, else `~/.config/3tofu/vantages.toml`.
    public static func defaultPath(environment: [String: String]) -> String {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config"
        return configHome + "/3tofu/vantages.toml"
    }

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> VantagesFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, message: "cannot read the vantages file; check the path given to --vantages or $THREETOFU_VANTAGES")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "the file is not UTF-8 text")
        }
        return try parse(text: text, path: path, environment: environment)
    }

    static let knownKeys: Set<String> = ["name", "kind", "proxy", "host", "port", "user", "identity", "known_hosts", "agent", "doh", "ca_cert"]
    static let proxySchemes = ["http", "https", "socks5", "socks5h"]

    /// A URL that names a host and holds no spaces or control characters (which could split a request line).
    static func hasHostAndNoSpaces(_ url: String) -> Bool {
        guard !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let host = URLComponents(string: url)?.host
        else { return false }
        return !host.isEmpty
    }

    public static func parse(text: String, path: String, environment: [String: String] = [:]) throws -> VantagesFile {
        let parsed = try ParsedTOML(text: text, path: path)
        let table = parsed.table
        let map = parsed.map
        for key in table.keys where key != "vantage" {
            throw ConfigurationError(
                file: path, line: map.line(ofTopLevelKey: key) ?? map.arrayTableLine(key, index: 0), field: key,
                message: "unknown top-level entry; the file holds only [[vantage]] tables")
        }
        guard let array = table["vantage"]?.array else {
            if table["vantage"] != nil {
                throw ConfigurationError(file: path, field: "vantage", message: "'vantage' must be written as [[vantage]] tables")
            }
            throw ConfigurationError(file: path, message: "no [[vantage]] tables; see examples/vantages.toml for the form")
        }
        var vantages: [VantageSpec] = []
        var seenNames: [String: Int] = [:]
        for (index, element) in array.enumerated() {
            guard let entry = element.table else {
                throw ConfigurationError(file: path, field: "vantage", message: "entry \(index + 1) is not a table")
            }
            let spec = try VantageEntry(table: entry, index: index, path: path, map: map, environment: environment).spec()
            if let first = seenNames[spec.name] {
                throw ConfigurationError(
                    file: path, line: map.line(ofKey: "name", inArrayTable: "vantage", index: index), field: "name",
                    message: "the name '\(spec.name)' is already used by vantage \(first + 1); names must be unique")
            }
            seenNames[spec.name] = index
            vantages.append(spec)
        }
        return VantagesFile(path: path, vantages: vantages)
    }

    public static func expandTilde(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}

/// Reads one `[[vantage]]` table, pointing errors at the right line.
private struct VantageEntry {
    let table: TOMLTable
    let index: Int
    let path: String
    let map: TOMLSourceMap
    let environment: [String: String]

    func error(_ field: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: path, line: map.line(ofKey: field, inArrayTable: "vantage", index: index), field: field, message: message)
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else { throw error(key, "must be a string, found \(value.type)") }
        return string
    }

    func spec() throws -> VantageSpec {
        for key in table.keys where !VantagesFile.knownKeys.contains(key) {
            throw error(key, "unknown field; known fields are \(VantagesFile.knownKeys.sorted().joined(separator: ", "))")
        }
        guard let name = try string("name"), !name.isEmpty else {
            throw error("name", "every vantage needs a non-empty name")
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw error("name", "'\(name)' may contain only letters, digits, '-', '_' and '.'")
        }
        guard let kindText = try string("kind") else {
            throw error("kind", "vantage '\(name)' needs a kind: \(kindList)")
        }
        guard let kind = VantageSpec.Kind(rawValue: kindText) else {
            throw error("kind", "unknown kind '\(kindText)' for vantage '\(name)'; use one of \(kindList)")
        }
        var spec = VantageSpec(name: name, kind: kind)
        spec.doh = try string("doh")
        spec.caCert = try string("ca_cert").map { VantagesFile.expandTilde($0, environment: environment) }
        if let doh = spec.doh, !doh.hasPrefix("https://") || !VantagesFile.hasHostAndNoSpaces(doh) {
            throw error("doh", "a DNS-over-HTTPS resolver must be an https:// URL with a host, such as https://1.1.1.1/dns-query")
        }
        switch kind {
        case .local:
            try forbid(["proxy", "host", "user", "identity", "known_hosts", "agent"], for: "local")
        case .proxy:
            try forbid(["host", "user", "identity", "known_hosts", "agent"], for: "proxy")
            guard let proxy = try string("proxy") else {
                throw error("proxy", "vantage '\(name)' of kind proxy needs proxy = \"socks5h://127.0.0.1:9050\" (or http://, https://, socks5://)")
            }
            guard let scheme = proxy.split(separator: ":", maxSplits: 1).first.map({ $0.lowercased() }),
                VantagesFile.proxySchemes.contains(scheme), proxy.contains("://"), VantagesFile.hasHostAndNoSpaces(proxy)
            else {
                throw error("proxy", "'\(proxy)' is not a proxy URL; use http://, https://, socks5:// or socks5h:// (DNS at the proxy)")
            }
            spec.proxy = proxy
        case .ssh:
            try forbid(["proxy"], for: "ssh")
            guard let host = try string("host"), !host.isEmpty else {
                throw error("host", "vantage '\(name)' of kind ssh needs host = \"…\"")
            }
            spec.host = host
            if let port = table["port"] {
                guard let number = port.int, (1...65535).contains(number) else {
                    throw error("port", "must be a whole number from 1 to 65535")
                }
                spec.port = number
            }
            spec.user = try string("user")
            spec.identity = try string("identity").map { VantagesFile.expandTilde($0, environment: environment) }
            spec.knownHosts = try string("known_hosts").map { VantagesFile.expandTilde($0, environment: environment) }
            if let agent = try string("agent") {
                guard let parsed = VantageSpec.Agent(rawValue: agent) else {
                    throw error("agent", "unknown agent '\(agent)'; use \"curl\" (zero install) or \"3tofu\"")
                }
                spec.agent = parsed
            }
        }
        return spec
    }

    private var kindList: String { VantageSpec.Kind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") }

    private func forbid(_ keys: [String], for kind: String) throws {
        for key in keys where table[key] != nil {
            throw error(key, "does not apply to a vantage of kind \(kind)")
        }
    }
}
