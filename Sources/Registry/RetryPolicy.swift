import Foundation

/// Pure decision: should a failed exchange be tried again, and after how long.
public struct RetryPolicy: Sendable, Equatable {
    public var maximumAttempts: Int
    public var baseDelay: Double
    public var maximumDelay: Double
    /// A Retry-After longer than this is not waited for: the error says when to try again.
    public var maximumRetryAfter: Double

    public init(maximumAttempts: Int = 5, baseDelay: Double = 0.5, maximumDelay: Double = 8, maximumRetryAfter: Double = 60) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.maximumRetryAfter = maximumRetryAfter
    }

    public static let standard = RetryPolicy()

    public static func isRetryable(status: Int) -> Bool {
        [408, 429, 500, 502, 503, 504].contains(status)
    }

    /// Seconds to wait before attempt `attempt + 1` (attempts count from 1), or nil to give up.
    public func delay(afterAttempt attempt: Int, retryAfter: String?, now: Date = Date()) -> Double? {
        guard attempt < maximumAttempts else { return nil }
        if let retryAfter, let seconds = Self.parseRetryAfter(retryAfter, now: now) {
            return seconds <= maximumRetryAfter ? seconds : nil
        }
        return min(maximumDelay, baseDelay * pow(2, Double(attempt - 1)))
    }

    /// Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return Double(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
