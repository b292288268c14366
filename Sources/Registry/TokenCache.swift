import Foundation
import Synchronization

/// Bearer tokens (or a Basic login) per (registry, scope), kept until shortly before they expire,
/// and fetched once at a time: requests of one client that meet a challenge together wait for the
/// one token request already on its way (single flight) instead of each asking for its own; a
/// request starting while one is on its way waits for it before it goes out, so it does not meet
/// the challenge at all.
actor TokenCache {
    private struct Entry {
        var token: String
        var expires: Date
    }
    /// A token request on its way, shared by every request waiting for it.
    private final class Flight: Sendable {
        let task: Task<(header: String, lifetime: Double)?, any Error>
        /// A waiter that was cancelled cancelled the request: the others ask again.
        let cancelledByWaiter = Atomic<Bool>(false)
        init(_ task: Task<(header: String, lifetime: Double)?, any Error>) { self.task = task }
    }
    private var entries: [String: Entry] = [:]
    private var flights: [String: Flight] = [:]
    /// Token requests started (for tests).
    private(set) var requestsStarted = 0

    func token(for key: String, now: Date = Date()) -> String? {
        guard let entry = entries[key], entry.expires > now else { return nil }
        return entry.token
    }

    /// The token to send with a new request: the cached one, else the one a request on its way
    /// brings (nil if none is on its way, or it brought none).
    func current(for key: String) async -> String? {
        if let token = token(for: key) { return token }
        guard let flight = flights[key] else { return nil }
        land(flight, for: key, await wait(for: flight))
        return token(for: key)
    }

    /// The result of a token request on its way; a waiter's cancellation cancels it (the other
    /// waiters then ask again, `refreshed`).
    private func wait(for flight: Flight) async -> Result<(header: String, lifetime: Double)?, any Error> {
        do {
            let value = try await withTaskCancellationHandler {
                try await flight.task.value
            } onCancel: {
                flight.cancelledByWaiter.store(true, ordering: .relaxed)
                flight.task.cancel()
            }
            return .success(value)
        } catch {
            return .failure(error)
        }
    }

    /// The first waiter back from a finished token request stores what it brought.
    private func land(_ flight: Flight, for key: String, _ result: Result<(header: String, lifetime: Double)?, any Error>) {
        guard flights[key] === flight else { return }
        flights[key] = nil
        if case .success(let value?) = result { store(value.header, for: key, lifetime: value.lifetime) }
    }

    func store(_ token: String, for key: String, lifetime: Double, now: Date = Date()) {
        // Refresh a little early; the spec's default lifetime is 60 s.
        let usable = max(10, lifetime - 10)
        entries[key] = Entry(token: token, expires: now.addingTimeInterval(usable))
    }

    func invalidate(_ key: String) {
        entries[key] = nil
    }

    /// A request sent with `sent` (nil: none) met a challenge: the token to send again. A token
    /// stored since (another request already refreshed it) is used as it is; a token request on
    /// its way is waited for; else `fetch` runs, once, for every request that meets the challenge
    /// meanwhile. nil: `fetch` found nothing to answer with.
    func refreshed(for key: String, after sent: String?, fetch: @escaping @Sendable () async throws -> (header: String, lifetime: Double)?) async throws -> String? {
        while true {
            if let cached = token(for: key), cached != sent { return cached }
            let flight: Flight
            if let running = flights[key] {
                flight = running
            } else {
                entries[key] = nil
                flight = Flight(Task { try await fetch() })
                flights[key] = flight
                requestsStarted += 1
            }
            let result = await wait(for: flight)
            land(flight, for: key, result)
            switch result {
            case .success(let value):
                return value?.header
            case .failure(let error):
                // Another waiter's cancellation ended the request, not this one's: ask again.
                if flight.cancelledByWaiter.load(ordering: .relaxed), !Task.isCancelled { continue }
                throw error
            }
        }
    }
}
