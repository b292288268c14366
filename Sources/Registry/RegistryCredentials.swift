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

/// The logins of one run, by registry host, each with where it came from; for a host without one,
/// which sources were looked at (`LoginResolver`). Only names of files and helpers are kept for
/// messages, never a secret.
public struct RegistryCredentials: Sendable, Equatable {
    private var byHost: [String: RegistryCredential]
    private var sourceByHost: [String: String]
    private var triedByHost: [String: [String]]
    /// Why no source was read at all (`--no-creds`), when so.
    private var anonymousReason: String?

    public init(
        _ byHost: [String: RegistryCredential] = [:], sources: [String: String] = [:], tried: [String: [String]] = [:], anonymousReason: String? = nil
    ) {
        self.byHost = Dictionary(byHost.map { (LoginKey.normalise($0.key), $0.value) }) { first, _ in first }
        self.sourceByHost = Dictionary(sources.map { (LoginKey.normalise($0.key), $0.value) }) { first, _ in first }
        self.triedByHost = Dictionary(tried.map { (LoginKey.normalise($0.key), $0.value) }) { first, _ in first }
        self.anonymousReason = anonymousReason
    }

    public static let none = RegistryCredentials()

    public func credential(for registry: String) -> RegistryCredential? {
        byHost[LoginKey.host(of: LoginKey.normalise(registry))]
    }

    /// Where the login for `registry` came from (`--creds`, a file, a helper), or nil.
    public func source(for registry: String) -> String? {
        sourceByHost[LoginKey.host(of: LoginKey.normalise(registry))]
    }

    /// The sources looked at for `registry` that held no login, in order.
    public func tried(for registry: String) -> [String] {
        triedByHost[LoginKey.host(of: LoginKey.normalise(registry))] ?? []
    }

    /// What to do about a refused or missing login, naming the sources used or tried (never a secret).
    public func loginAdvice(for registry: String) -> String {
        if let reason = anonymousReason {
            return "no login was offered (\(reason)); to log in, drop it and give one (--creds USER, --authfile FILE, `skopeo login \(registry)`)"
        }
        if let credential = credential(for: registry) {
            let from = source(for: registry).map { " from \($0)" } ?? ""
            return "the login for \(credential.username)\(from) was refused; check it, or log in again (`skopeo login \(registry)` / `docker login \(registry)`)"
        }
        let tried = tried(for: registry)
        let list = tried.isEmpty ? "no login sources" : tried.joined(separator: ", ")
        return "no login for \(registry) was found (tried: \(list)); log in with `skopeo login \(registry)` or `docker login \(registry)`, or pass --creds USER or --authfile FILE"
    }
}
