import Foundation
import Transport

extension RegistryClient {
    /// Downloads a plain HTTP(S) URL (a formula API document, a release file, a checksum file)
    /// through this vantage's transport: redirects followed by `RedirectPolicy` (never to a
    /// non-HTTP scheme, never from https down to http), transient failures retried, and no
    /// registry credentials sent anywhere. Any status is returned; the caller judges it.
    /// `chain` is every URL the request went through, the one that answered last.
    /// `maximumBodyLength` bounds a 2xx body as the transports do (`HTTPRequest.maximumBodyLength`).
    public func fetchURL(_ url: String, into destination: BodyDestination, maximumBodyLength: Int64? = nil) async throws -> (response: HTTPResponse, chain: [String]) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https", parsed.host != nil else {
            throw RegistryError(.badResponse, "'\(Self.redact(url))' is not an http:// or https:// URL; give the full address of the file")
        }
        let request = HTTPRequest(url: url, maximumBodyLength: maximumBodyLength)
        do {
            let (response, chain) = try await withRetries(url) {
                try await self.followRedirects(request, authorization: nil, into: destination)
            }
            return (response, chain)
        } catch let error as TransportError where error.kind == .bodyTooLarge {
            throw RegistryError(.tooLarge, "\(Self.redact(url)): \(error.detail)")
        }
    }

    /// A RegistryError for a plain download that did not answer 200.
    public static func downloadStatusError(_ response: HTTPResponse, url: String) -> RegistryError {
        switch response.status {
        case 404, 410:
            return RegistryError(.notFound, "\(redact(url)) was not found (HTTP \(response.status)); check the URL")
        case 401, 403:
            return RegistryError(.unauthorized, "\(redact(url)) refused access (HTTP \(response.status)); 3tofu fetches only public files")
        default:
            return RegistryError(.server, "\(redact(url)) answered HTTP \(response.status)")
        }
    }
}
