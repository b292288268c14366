import CCurl
import Foundation

/// Turns a failed `curl_easy_perform` into a `TransportError` that says what happened, to which
/// URL, over which route, and what to do next. Never sees request header values.
enum CurlErrorMapping {
    struct Facts {
        var code: CURLcode
        /// libcurl's `CURLOPT_ERRORBUFFER` text (may be empty).
        var errorText: String
        /// The request URL without credentials.
        var url: String
        /// The proxy route without credentials, or nil when direct.
        var proxyRoute: String?
        /// The status of the proxy's answer to CONNECT (0 when there was none).
        var proxyConnectStatus: Int
        /// Why one of our callbacks stopped the transfer, if it did.
        var callbackFailure: ResponseBodySink.Failure?
    }

    static func error(_ facts: Facts) -> TransportError {
        if let failure = facts.callbackFailure {
            // The body sink's own message, the same for every transport.
            return failure.error(url: facts.url, via: facts.proxyRoute)
        }
        let (kind, advice) = classify(facts)
        let curlText = String(cString: curl_easy_strerror(facts.code))
        let reason = facts.errorText.isEmpty ? curlText : "\(facts.errorText) [\(curlText)]"
        let via = facts.proxyRoute.map { " via proxy \($0)" } ?? ""
        let detail = kind == .tls
            ? TransportFailureWords.tls(url: facts.url, via: via, reason: reason)
            : "\(summary(kind))\(via): \(reason); \(advice)"
        return TransportError(kind: kind, url: facts.url, detail: detail)
    }

    static func classify(_ facts: Facts) -> (TransportError.Kind, String) {
        if let failure = facts.callbackFailure {
            return (failure.kind, failure.advice)
        }
        let proxied = facts.proxyRoute != nil
        switch facts.code {
        case CURLE_COULDNT_RESOLVE_HOST:
            return (.dns, "check the host name and this vantage's DNS")
        case CURLE_COULDNT_RESOLVE_PROXY:
            return (.dns, "check the proxy host name in the vantages file")
        case CURLE_COULDNT_CONNECT:
            if proxied {
                return (.proxy, "check that the proxy is running and reachable (no direct fallback is tried)")
            }
            return (.connect, "check that the server is up and reachable from this vantage")
        case CURLE_PROXY:
            if facts.proxyConnectStatus != 0, !(200..<300).contains(facts.proxyConnectStatus) {
                return (.proxy, proxyTunnelAdvice(facts.proxyConnectStatus))
            }
            return (.proxy, "check the proxy address, its credentials and that it allows this destination")
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED,
             CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            return (.tls, TransportFailureWords.tlsAdvice)
        case CURLE_OPERATION_TIMEDOUT:
            return (.timeout, "the server or route was too slow; retry, or check this vantage's network")
        case CURLE_FILESIZE_EXCEEDED:
            return (.bodyTooLarge, "the server announced a body larger than the caller's cap")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return (.unsupportedScheme, "only http:// and https:// URLs are fetched")
        case CURLE_URL_MALFORMAT:
            return (.badURL, "the URL (or a redirect's Location) is not a well-formed http(s) URL")
        case CURLE_OUT_OF_MEMORY, CURLcode(rawValue: 100):
            // libcurl 7.x answers a header line or header block past its 100 KiB limit with
            // OUT_OF_MEMORY (8.x with TOO_LARGE, 100) and often no message of its own.
            return (.other, "the response's headers are larger than libcurl accepts (100 KiB for a line or the whole block); "
                + "the server, or something on this route, sent what is not a normal HTTP response")
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
             CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            if proxied, facts.proxyConnectStatus != 0, !(200..<300).contains(facts.proxyConnectStatus) {
                return (.proxy, proxyTunnelAdvice(facts.proxyConnectStatus))
            }
            return (.connect, "the connection broke during the exchange; retry (a download can resume with a range request)")
        default:
            if proxied, facts.proxyConnectStatus != 0, !(200..<300).contains(facts.proxyConnectStatus) {
                return (.proxy, proxyTunnelAdvice(facts.proxyConnectStatus))
            }
            return (.other, facts.errorText.isEmpty ? "libcurl error \(facts.code.rawValue)" : "see libcurl's message before the brackets")
        }
    }

    /// A CONNECT the proxy answered with an error: its own failure (the destination down, or not
    /// allowed), never the registry's answer.
    static func proxyTunnelAdvice(_ status: Int) -> String {
        "the proxy refused to open a tunnel or could not open one (it answered CONNECT with status \(status)): the proxy's failure, not the registry's; "
            + "check that the registry is up and reachable from the proxy, and that the proxy allows this destination and port"
    }

    private static func summary(_ kind: TransportError.Kind) -> String {
        TransportFailureWords.summary(kind)
    }
}
