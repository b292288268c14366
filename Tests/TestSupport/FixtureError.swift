import Foundation

/// An error from a test fixture: what failed, on what, and (when a process was involved) its log tail.
public struct FixtureError: Error, CustomStringConvertible, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
