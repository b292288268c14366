import CCurl
import Foundation

/// A certificate a server presented on a connection whose TLS verification failed: what an
/// auditor needs to tell who answered (an interceptor's certificate, a stale one, another host's).
/// Shown, not trusted: nothing was sent over that connection.
public struct ShownCertificate: Sendable, Equatable, Codable {
    /// SHA-256 of the DER certificate (lowercase hex), as `openssl x509 -fingerprint -sha256` gives it.
    public var sha256: String
    public var subject: String?
    public var issuer: String?
    /// Validity, ISO 8601 UTC (as the certificate says; the text as shown when it is not a date).
    public var notBefore: String?
    public var notAfter: String?

    public init(sha256: String, subject: String? = nil, issuer: String? = nil, notBefore: String? = nil, notAfter: String? = nil) {
        self.sha256 = sha256
        self.subject = subject
        self.issuer = issuer
        self.notBefore = notBefore
        self.notAfter = notAfter
    }
}

/// libcurl's OpenSSL backend records no chain when verification fails, so after such a failure
/// the lane connects once more over the same route (the same proxy; direct, to the same address)
/// with verification off and `CURLOPT_CONNECT_ONLY`: the TLS handshake is all that happens. No
/// HTTP request, header or credential is sent, the connection is closed at once with its own
/// handle, and what it shows is recorded as shown, never used or trusted.
enum UntrustedCertificates {
    /// The chain shown at `url`'s origin over the route of `settings` (leaf first); empty when the
    /// second handshake failed too. `address`: the address the failed attempt connected to, for
    /// a direct route (a proxy resolves on its side).
    static func record(url: String, address: String?, settings: CurlSettings, cancellation: CancellationFlag) -> [ShownCertificate] {
        guard let target = ProbeTarget(url: url, address: settings.configuration.proxy == nil ? address : nil),
              let handle = curl_easy_init()
        else { return [] }
        var connectTo: UnsafeMutablePointer<curl_slist>?
        var resolve: UnsafeMutablePointer<curl_slist>?
        defer {
            // Closes the probe's connection: it never serves another transfer.
            curl_easy_cleanup(handle)
            curl_slist_free_all(connectTo)
            curl_slist_free_all(resolve)
        }
        let configuration = settings.configuration
        let milliseconds = Int((configuration.connectTimeout * 1000).rounded())
        var ok = true
        func set(_ code: CURLcode) { if code != CURLE_OK { ok = false } }
        set(tofu_setopt_string(handle, CURLOPT_URL, target.origin))
        set(tofu_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1))
        set(tofu_setopt_long(handle, CURLOPT_FRESH_CONNECT, 1))
        set(tofu_setopt_long(handle, CURLOPT_FORBID_REUSE, 1))
        set(tofu_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(tofu_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "https"))
        set(tofu_setopt_string(handle, CURLOPT_PROXY, settings.proxyOption))
        set(tofu_setopt_string(handle, CURLOPT_NOPROXY, ""))
        set(tofu_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        // The origin's certificate is recorded, not checked; the proxy's is still checked.
        set(tofu_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0))
        set(tofu_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0))
        set(tofu_setopt_long(handle, CURLOPT_PROXY_SSL_VERIFYPEER, 1))
        set(tofu_setopt_long(handle, CURLOPT_PROXY_SSL_VERIFYHOST, 2))
        set(tofu_setopt_long(handle, CURLOPT_SSL_SESSIONID_CACHE, 0))
        set(tofu_setopt_long(handle, CURLOPT_CERTINFO, 1))
        set(tofu_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds))
        set(tofu_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds))
        set(tofu_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent))
        // The caller's cancellation stops the handshake too.
        set(tofu_setopt_pointer(handle, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(cancellation).toOpaque()))
        set(tofu_setopt_xferinfo_cb(handle) { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            return Unmanaged<CancellationFlag>.fromOpaque(userdata).takeUnretainedValue().isCancelled ? 1 : 0
        })
        set(tofu_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        if let bundle = settings.caBundle {
            bundle.withUnsafeBytes { bytes in
                set(tofu_setopt_blob(handle, CURLOPT_PROXY_CAINFO_BLOB, bytes.baseAddress, bytes.count))
            }
        }
        for entry in configuration.resolve {
            resolve = curl_slist_append(resolve, entry)
        }
        if resolve != nil { set(tofu_setopt_slist(handle, CURLOPT_RESOLVE, resolve)) }
        if let pinned = target.connectTo {
            connectTo = curl_slist_append(connectTo, pinned)
            set(tofu_setopt_slist(handle, CURLOPT_CONNECT_TO, connectTo))
        }
        guard ok, withExtendedLifetime(cancellation, { curl_easy_perform(handle) }) == CURLE_OK else { return [] }
        return CertificateFingerprints.readShown(from: handle)
    }

    /// The origin to connect to (no path, query or user information), and for a direct route the
    /// `CONNECT_TO` entry that holds it to the address already connected to. Pure.
    struct ProbeTarget: Equatable {
        var origin: String
        var connectTo: String?

        init?(url: String, address: String?) {
            guard let components = URLComponents(string: url), components.scheme?.lowercased() == "https",
                  let host = components.host, !host.isEmpty
            else { return nil }
            let port = components.port ?? 443
            let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            origin = "https://\(shownHost):\(port)/"
            if let address, !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }) {
                let connectHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
                connectTo = "\(connectHost):\(port):\(address.contains(":") ? "[\(address)]" : address):\(port)"
            } else {
                connectTo = nil
            }
        }
    }
}

extension CertificateFingerprints {
    /// The chain of the last handshake with each certificate's subject, issuer and validity.
    static func readShown(from handle: UnsafeMutableRawPointer) -> [ShownCertificate] {
        fields(from: handle).compactMap(shownCertificate(fields:))
    }

    /// One certificate from libcurl's `Name:value` fields; nil without its PEM. Pure.
    static func shownCertificate(fields: [String]) -> ShownCertificate? {
        func value(_ name: String) -> String? {
            fields.first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)) }
        }
        guard let pem = value("Cert"), let der = der(fromPEM: pem) else { return nil }
        return ShownCertificate(
            sha256: sha256Hex(der), subject: value("Subject").map(printable), issuer: value("Issuer").map(printable),
            notBefore: value("Start date").map(isoDate), notAfter: value("Expire date").map(isoDate))
    }

    /// Text from the certificate, on one line of printable characters, at most 300 of them.
    static func printable(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) }
        return String(String.UnicodeScalarView(kept.prefix(300))).trimmingCharacters(in: .whitespaces)
    }

    /// OpenSSL's "Dec  3 19:00:00 2026 GMT" (or "2026-12-03 19:00:00 GMT") as "2026-12-03T19:00:00Z".
    static func isoDate(_ text: String) -> String {
        let words = text.split(separator: " ").joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["MMM d HH:mm:ss yyyy 'GMT'", "yyyy-MM-dd HH:mm:ss 'GMT'"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: words) {
                let iso = ISO8601DateFormatter()
                iso.timeZone = TimeZone(identifier: "UTC")
                return iso.string(from: date)
            }
        }
        return printable(words)
    }
}
