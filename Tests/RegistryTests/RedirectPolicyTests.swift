import Registry
import Testing

@Suite struct RedirectPolicyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var from: String
        var location: String
        var insecure: Set<String> = []
        /// Where the chain began; by default where this hop came from.
        var start: String?
        var expected: RedirectPolicy.Decision
        var testDescription: String { "\(from) → \(location)" }
    }

    @Test(arguments: [
        Case(from: "https://r.io/v2/a/blobs/sha256:1", location: "/v2/a/blobs/x", expected: .follow(url: "https://r.io/v2/a/blobs/x", keepAuthorization: true)),
        Case(from: "https://r.io/v2/a/blobs/sha256:1", location: "https://cdn.r.io/x?sig=1", expected: .follow(url: "https://cdn.r.io/x?sig=1", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "https://r.io:8443/v2/", expected: .follow(url: "https://r.io:8443/v2/", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "https://R.IO:443/v2/x", expected: .follow(url: "https://R.IO:443/v2/x", keepAuthorization: true)),
        Case(from: "http://127.0.0.1:5000/v2/", location: "http://127.0.0.1:5001/b", expected: .follow(url: "http://127.0.0.1:5001/b", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "http://r.io/v2/", expected: .refuse(reason: "")),
        Case(from: "https://r.io/v2/", location: "http://r.io:80/v2/", insecure: ["r.io"], expected: .follow(url: "http://r.io:80/v2/", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "ftp://r.io/x", expected: .refuse(reason: "")),
        Case(from: "https://r.io/v2/", location: "file:///etc/passwd", expected: .refuse(reason: "")),
        Case(from: "https://r.io/v2/", location: "gopher://r.io/", expected: .refuse(reason: "")),
        // Link-local targets, in every spelling curl would connect to, unless the chain began there.
        Case(from: "https://r.io/v2/a/blobs/sha256:1", location: "http://169.254.169.254/latest/meta-data/", insecure: ["169.254.169.254"], expected: .refuse(reason: "169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://169.254.0.1:8443/x", expected: .refuse(reason: "169.254.0.1")),
        Case(from: "https://r.io/v2/", location: "https://169.254.255.255./x", expected: .refuse(reason: "169.254.255.255")),
        Case(from: "https://r.io/v2/", location: "https://0xa9fea9fe/x", expected: .refuse(reason: "169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://0251.0376.0251.0376/x", expected: .refuse(reason: "169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://169.254.43518/x", expected: .refuse(reason: "169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://2852039166/x", expected: .refuse(reason: "169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://169%2e254%2e169%2e254/x", expected: .refuse(reason: "169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://[fe80::1]/x", expected: .refuse(reason: "fe80::1")),
        Case(from: "https://r.io/v2/", location: "https://[FEBF:ffff::1]:5000/x", expected: .refuse(reason: "febf:ffff::1")),
        Case(from: "https://r.io/v2/", location: "https://[fe80::1%25eth0]/x", expected: .refuse(reason: "fe80::1")),
        Case(from: "https://r.io/v2/", location: "https://[::ffff:169.254.169.254]/x", expected: .refuse(reason: "IPv4 169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://[::ffff:a9fe:a9fe]/x", expected: .refuse(reason: "IPv4 169.254.169.254")),
        Case(from: "https://r.io/v2/", location: "https://[::169.254.1.1]/x", expected: .refuse(reason: "IPv4 169.254.1.1")),
        Case(from: "https://r.io/v2/", location: "https://[64:ff9b::a9fe:101]/x", expected: .refuse(reason: "IPv4 169.254.1.1")),
        // Near misses are ordinary addresses.
        Case(from: "https://r.io/v2/", location: "https://169.253.255.255/x", expected: .follow(url: "https://169.253.255.255/x", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "https://169.255.0.1/x", expected: .follow(url: "https://169.255.0.1/x", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "https://[fec0::1]/x", expected: .follow(url: "https://[fec0::1]/x", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "https://[::ffff:10.0.0.1]/x", expected: .follow(url: "https://[::ffff:10.0.0.1]/x", keepAuthorization: false)),
        Case(from: "https://r.io/v2/", location: "https://169.254.example/x", expected: .follow(url: "https://169.254.example/x", keepAuthorization: false)),
        // A registry that is itself link-local may send its downloads to its neighbours.
        Case(from: "https://169.254.3.4:5000/v2/a/blobs/sha256:1", location: "https://169.254.3.5/x", expected: .follow(url: "https://169.254.3.5/x", keepAuthorization: false)),
        Case(from: "https://cdn.r.io/hop", location: "https://[fe80::2]/x", start: "https://[fe80::1]:5000/v2/", expected: .follow(url: "https://[fe80::2]/x", keepAuthorization: false)),
        Case(from: "https://169.254.3.4/hop", location: "https://169.254.3.5/x", start: "https://r.io/v2/", expected: .refuse(reason: "169.254.3.5")),
    ])
    func decides(_ c: Case) {
        let decision = RedirectPolicy.decide(from: c.from, location: c.location, insecureHosts: c.insecure, start: c.start ?? c.from)
        switch (decision, c.expected) {
        case (.refuse(let reason), .refuse(let names)):
            #expect(!reason.isEmpty)
            // A link-local refusal names the address it read and says why.
            if !names.isEmpty { #expect(reason.contains(names) && reason.contains("link-local"), "\(reason)") }
        default:
            #expect(decision == c.expected)
        }
    }
}

@Suite struct RetryPolicyTests {
    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func retryableStatuses(_ status: Int) {
        #expect(RetryPolicy.isRetryable(status: status))
    }

    @Test(arguments: [200, 206, 301, 400, 401, 403, 404, 416, 501])
    func finalStatuses(_ status: Int) {
        #expect(!RetryPolicy.isRetryable(status: status))
    }

    @Test func backoffGrowsAndStops() {
        let policy = RetryPolicy(maximumAttempts: 4, baseDelay: 0.5, maximumDelay: 1.5)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil) == 0.5)
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil) == 1.0)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil) == 1.5)
        #expect(policy.delay(afterAttempt: 4, retryAfter: nil) == nil)
    }

    @Test func retryAfterSecondsAndDates() {
        let policy = RetryPolicy(maximumAttempts: 5, maximumRetryAfter: 30)
        #expect(policy.delay(afterAttempt: 1, retryAfter: "7") == 7)
        #expect(policy.delay(afterAttempt: 1, retryAfter: "3600") == nil)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let later = RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now)
        #expect(later == 10)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
    }
}

import Foundation
