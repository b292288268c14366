import Foundation

/// The JSON a token realm answers (Docker token spec): `token` or `access_token`, `expires_in`.
struct TokenResponse: Decodable {
    var token: String?
    var accessToken: String?
    var expiresIn: Int?

    enum CodingKeys: String, CodingKey {
        case token
        case accessToken = "access_token"
        case expiresIn = "expires_in"
    }

    static func parse(_ data: Data, realm: String) throws -> (token: String, lifetime: Double) {
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: data),
            let token = decoded.token ?? decoded.accessToken, !token.isEmpty
        else {
            throw RegistryError(.badResponse, "the token service at \(realm) did not answer with a token (expected JSON with \"token\" or \"access_token\")")
        }
        guard token.utf8.count <= 64 * 1024, token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw RegistryError(.badResponse, "the token service at \(realm) answered a token that cannot be sent in a header")
        }
        let lifetime = Double(decoded.expiresIn.map { max(0, $0) } ?? 60)
        return (token, lifetime)
    }
}
