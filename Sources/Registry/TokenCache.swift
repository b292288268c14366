import Foundation

/// Bearer tokens per (registry, scope), kept until shortly before they expire.
actor TokenCache {
    private struct Entry {
        var token: String
        var expires: Date
    }
    private var entries: [String: Entry] = [:]

    func token(for key: String, now: Date = Date()) -> String? {
        guard let entry = entries[key], entry.expires > now else { return nil }
        return entry.token
    }

    func store(_ token: String, for key: String, lifetime: Double, now: Date = Date()) {
        // Refresh a little early; the spec's default lifetime is 60 s.
        let usable = max(10, lifetime - 10)
        entries[key] = Entry(token: token, expires: now.addingTimeInterval(usable))
    }

    func invalidate(_ key: String) {
        entries[key] = nil
    }
}
