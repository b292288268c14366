import Foundation

/// What every transfer of one transport sets on its easy handle, prepared once at init.
struct CurlSettings: Sendable {
    var configuration: TransportConfiguration
    /// System bundle + extra CAs, or nil to let libcurl use its built-in default bundle.
    var caBundle: Data?

    /// The proxy URL passed to libcurl: "" (never a proxy, ignoring `*_proxy` variables) when direct.
    var proxyOption: String { configuration.proxy ?? "" }
    /// The proxy route without credentials, or nil when direct.
    var proxyRoute: String? { configuration.proxy.map(ProxyURL.redacted) }
}
