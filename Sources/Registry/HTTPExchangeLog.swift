import Foundation
import Synchronization
import Transport

/// One HTTP exchange a vantage made, as `-v` shows it: never a header, a query string or a body.
public struct HTTPExchange: Sendable, Equatable {
    /// The vantage's name (the label its `RegistryClient` was given).
    public var vantage: String
    public var method: String
    /// Scheme, host, port and path; user information, query and fragment removed.
    public var url: String
    /// The HTTP status, or nil when the exchange failed below HTTP.
    public var status: Int?
    /// Body bytes received.
    public var bytes: Int64
    public var seconds: Double
    /// Why it failed below HTTP (a `TransportError`'s text), when it did.
    public var failure: String?

    public init(vantage: String, method: String, url: String, status: Int?, bytes: Int64, seconds: Double, failure: String? = nil) {
        self.vantage = vantage
        self.method = method
        self.url = HTTPExchange.withoutQuery(url)
        self.status = status
        self.bytes = bytes
        self.seconds = seconds
        self.failure = failure
    }

    /// `https://user:pw@host/v2/x?token=…#f` → `https://host/v2/x`.
    public static func withoutQuery(_ url: String) -> String {
        var text = Substring(url)
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                text = text[..<scheme.upperBound] + rest[rest.index(after: at)...]
            }
        }
        return String(text)
    }
}

/// The hook `-v` listens on: every `RegistryClient` with a label tells it of each exchange it made
/// (each hop of a redirect, each retry). Nobody listening (the default) costs a lock and a nil check.
public enum HTTPExchangeLog {
    public typealias Observer = @Sendable (HTTPExchange) -> Void

    private static let observer = Mutex<Observer?>(nil)

    /// Starts (or, with nil, stops) telling `observer` of every exchange.
    public static func observe(_ new: Observer?) {
        observer.withLock { $0 = new }
    }

    static func record(_ exchange: @autoclosure () -> HTTPExchange) {
        guard let current = observer.withLock({ $0 }) else { return }
        current(exchange())
    }
}
