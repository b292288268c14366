import Foundation

/// Pure decision for one 401: may 3tofu answer the challenge it carries?
///
/// A login belongs to the registry it was configured for. It goes to that registry's origin and
/// to the token realm that origin itself names in its challenge, nowhere else. A redirect can
/// send a request to any origin, and that origin can answer 401 with a challenge naming a realm
/// of its own choosing: answering it would hand the registry's login (or, without one, a request
/// for a token) to whoever the redirect chose. So a challenge is answered only when the origin
/// that sent it is the registry's own; any other origin's 401 is an error that names it.
public enum ChallengePolicy {
    public enum Decision: Sendable, Equatable {
        /// The registry itself asked: answer, and the realm it names may receive the login.
        case answer
        case refuse(reason: String)
    }

    /// `registry` is the registry's base URL (`https://host[:port]`); `challenger` the URL that
    /// answered 401 (the last one of the redirect chain).
    public static func decide(registry: String, challenger: String) -> Decision {
        guard let own = Origin(registry), let other = Origin(challenger) else {
            return .refuse(reason: "cannot tell which server asked for a login (\(RegistryClient.redact(challenger).prefix(200))); not answering it")
        }
        if own == other { return .answer }
        return .refuse(reason:
            "\(own.hostPort) redirected this request to \(other.scheme)://\(other.hostPort), which answered 401 asking for a login; "
            + "3tofu sends a registry's login only to that registry and to the token service the registry itself names, "
            + "never to a server a redirect chose, so it did not answer. Ask the registry's operator to serve redirected "
            + "downloads without a login (signed CDN links need none)")
    }
}
