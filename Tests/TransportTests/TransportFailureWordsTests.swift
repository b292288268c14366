import Testing
import Transport

/// One set of words for a failure, whichever transport saw it.
@Suite struct TransportFailureWordsTests {
    @Test func aTLSHandshakeAnsweredInPlainHTTPNamesInsecureRegistry() {
        let reason = "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number [SSL connect error]"
        #expect(TransportFailureWords.isPlainHTTPAnswer(reason))
        let text = TransportFailureWords.tls(url: "https://127.0.0.1:5000/v2/app/manifests/1", via: "", reason: reason)
        #expect(text.contains("127.0.0.1:5000 answered the TLS handshake in plain HTTP"))
        #expect(text.contains("pass --insecure-registry 127.0.0.1:5000"))
        #expect(!text.contains("intercepted"))
        #expect(TransportFailureWords.tls(url: "https://r.test/v2/", via: "", reason: reason).contains("--insecure-registry r.test;"))
    }

    @Test func anyOtherTLSFailureKeepsTheCAAdviceAndTheInterceptionWarning() {
        let reason = "SSL certificate problem: unable to get local issuer certificate"
        #expect(!TransportFailureWords.isPlainHTTPAnswer(reason))
        let text = TransportFailureWords.tls(url: "https://r.test/v2/", via: " via proxy http://p:1", reason: reason)
        #expect(text.hasPrefix("TLS verification or handshake failed via proxy http://p:1: SSL certificate problem"))
        #expect(text.contains("--ca-cert FILE (every vantage, SSH hosts included)") && text.contains("ca_cert") && text.contains("may be intercepted"))
    }
}
