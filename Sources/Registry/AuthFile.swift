import Foundation

/// One file of logins as docker and containers/image write them: `auths` (a login per registry,
/// or per repository namespace in containers' auth.json), `credHelpers` (a credential helper per
/// registry) and, in docker's config.json only, `credsStore` (the helper for every other registry).
/// Parsing only; which file and which entry wins is `LoginPlan`.
public struct AuthFile: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// containers' auth.json (`skopeo login`, `podman login`, `--authfile`, `$REGISTRY_AUTH_FILE`).
        case containers
        /// docker's config.json: `credsStore` counts here, as docker reads it.
        case docker
    }

    public var path: String
    public var kind: Kind
    /// Normalised key (`LoginKey.normalise`) → login.
    public var auths: [String: RegistryCredential]
    /// Normalised registry host → helper name (`docker-credential-NAME`).
    public var credHelpers: [String: String]
    public var credsStore: String?

    public init(path: String, kind: Kind, auths: [String: RegistryCredential] = [:], credHelpers: [String: String] = [:], credsStore: String? = nil) {
        self.path = path
        self.kind = kind
        self.auths = auths
        self.credHelpers = credHelpers
        self.credsStore = credsStore
    }

    /// The file's JSON; a bad file is a `RegistryError(.badResponse)` naming the file and the entry,
    /// never the secret.
    public static func parse(_ data: Data, path: String, kind: Kind) throws -> AuthFile {
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
            let what = kind == .docker ? "docker config.json" : "auth.json"
            throw RegistryError(.badResponse, "\(path): not a valid \(what) (\(error.localizedDescription)); fix or move the file")
        }
        var auths: [String: RegistryCredential] = [:]
        for (key, entry) in file.auths ?? [:] {
            let normalised = LoginKey.normalise(key)
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).flatMap({ String(data: $0, encoding: .utf8) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    throw RegistryError(.badResponse, "\(path): auths.\"\(key)\".auth is not base64 of 'user:password'; log in to \(key) again or fix the entry")
                }
                auths[normalised] = RegistryCredential(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]))
            } else if let username = entry.username, let password = entry.password {
                auths[normalised] = RegistryCredential(username: username, password: password)
            }
            // An empty entry (`{}`) is what `docker login` leaves when a helper keeps the login.
        }
        var helpers: [String: String] = [:]
        for (key, helper) in file.credHelpers ?? [:] where !helper.isEmpty {
            helpers[LoginKey.host(of: LoginKey.normalise(key))] = helper
        }
        let store = kind == .docker ? file.credsStore.flatMap { $0.isEmpty ? nil : $0 } : nil
        return AuthFile(path: path, kind: kind, auths: auths, credHelpers: helpers, credsStore: store)
    }
}

/// Keys of auth files and the names they are looked up by: `registry[/namespace…]`, the registry
/// host lower-cased, Docker Hub's aliases as one.
public enum LoginKey {
    /// `https://index.docker.io/v1/`, `docker.io`, `registry-1.docker.io` → `registry-1.docker.io`;
    /// a key with a scheme is a host only (docker's old form); `quay.io/org` keeps its namespace.
    public static func normalise(_ key: String) -> String {
        var text = key
        var hadScheme = false
        for prefix in ["https://", "http://"] where text.lowercased().hasPrefix(prefix) {
            text.removeFirst(prefix.count)
            hadScheme = true
        }
        var host = text
        var path = ""
        if let slash = text.firstIndex(of: "/") {
            host = String(text[..<slash])
            path = hadScheme ? "" : String(text[slash...])
        }
        while path.hasSuffix("/") { path.removeLast() }
        host = host.lowercased()
        if ["docker.io", "index.docker.io", "registry-1.docker.io"].contains(host) { host = "registry-1.docker.io" }
        return host + path
    }

    public static func host(of key: String) -> String {
        key.firstIndex(of: "/").map { String(key[..<$0]) } ?? key
    }

    /// `quay.io/a/b/c` → `quay.io/a/b/c`, `quay.io/a/b`, `quay.io/a`, `quay.io`: most specific first.
    public static func candidates(for name: String) -> [String] {
        var key = normalise(name)
        var result = [key]
        while let slash = key.lastIndex(of: "/") {
            key = String(key[..<slash])
            result.append(key)
        }
        return result
    }

    /// What a credential helper is asked for: docker's name for Docker Hub, else `host[:port]`.
    public static func helperServer(for host: String) -> String {
        host == "registry-1.docker.io" ? "https://index.docker.io/v1/" : host
    }
}
