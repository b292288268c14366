import Foundation

/// A user name and password for one registry. `description` never shows the password.
public struct RegistryCredential: Sendable, Equatable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public var description: String { "credential for \(username)" }
}

/// Credentials from docker's `config.json` (`auths`), looked up by registry host. Credential
/// helpers (`credsStore`, `credHelpers`) are not run; which one would hold a host's login is kept,
/// so a refusal can say why 3tofu had no login to offer.
public struct RegistryCredentials: Sendable, Equatable {
    private var byHost: [String: RegistryCredential]
    private var helperByHost: [String: String]
    private var defaultHelper: String?

    public init(_ byHost: [String: RegistryCredential] = [:], helpers: [String: String] = [:], defaultHelper: String? = nil) {
        self.byHost = byHost
        self.helperByHost = helpers
        self.defaultHelper = defaultHelper
    }

    public static let none = RegistryCredentials()

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; a missing file means no credentials.
    public static func load(environment: [String: String]) throws -> RegistryCredentials {
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.docker"
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path) else { return .none }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> RegistryCredentials {
        struct File: Decodable {
            struct Entry: Decodable {
                var auth: String?
                var username: String?
                var password: String?
            }
            var auths: [String: Entry]?
            var credsStore: String?
            var credHelpers: [String: String]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw RegistryError(.badResponse, "\(path): not a valid docker config.json (\(error.localizedDescription)); fix or move the file")
        }
        var result: [String: RegistryCredential] = [:]
        for (key, entry) in file.auths ?? [:] {
            let host = normaliseHost(key)
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw RegistryError(.badResponse, "\(path): auths.\"\(key)\".auth is not base64 of 'user:password'; run `docker login \(key)` again or fix the entry")
                }
                result[host] = RegistryCredential(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let username = entry.username, let password = entry.password {
                result[host] = RegistryCredential(username: username, password: password)
            }
        }
        var helpers: [String: String] = [:]
        for (key, helper) in file.credHelpers ?? [:] where !helper.isEmpty {
            helpers[normaliseHost(key)] = helper
        }
        let store = file.credsStore.flatMap { $0.isEmpty ? nil : $0 }
        return RegistryCredentials(result, helpers: helpers, defaultHelper: store)
    }

    /// When there is no login for `registry` but the docker config names a credential helper
    /// that would hold it: a sentence saying so and what to do; else nil.
    public func helperHint(for registry: String) -> String? {
        guard credential(for: registry) == nil,
              let helper = helperByHost[Self.normaliseHost(registry)] ?? defaultHelper else { return nil }
        return "the docker config keeps the login for \(registry) in the credential helper docker-credential-\(helper), which 3tofu does not run; "
            + "give 3tofu a config.json with an \"auths\" entry for it (in a directory named by DOCKER_CONFIG)"
    }

    public func credential(for registry: String) -> RegistryCredential? {
        byHost[Self.normaliseHost(registry)]
    }

    /// `https://index.docker.io/v1/`, `docker.io`, `registry-1.docker.io` all name Docker Hub.
    static func normaliseHost(_ key: String) -> String {
        var host = key.lowercased()
        for prefix in ["https://", "http://"] where host.hasPrefix(prefix) {
            host.removeFirst(prefix.count)
        }
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        if ["docker.io", "index.docker.io", "registry-1.docker.io"].contains(host) { return "registry-1.docker.io" }
        return host
    }
}
