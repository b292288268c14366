import CCurl

/// libcurl's process-wide initialisation, done exactly once (a Swift global `let` is initialised
/// under a once-guard) before the first easy handle exists.
enum CurlGlobal {
    private static let initResult: CURLcode = tofu_global_init()

    /// Initialises libcurl if needed; throws when that failed (out of memory, broken TLS library).
    static func ensureInitialised() throws {
        let code = initResult
        guard code == CURLE_OK else {
            throw TransportError(configuration: 
                "libcurl could not be initialised (\(String(cString: curl_easy_strerror(code)))); check the libcurl and OpenSSL installation")
        }
    }
}
