#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed read or write: the `errno` of the call. Callers add the path and the advice.
public struct DirectIOError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(code: Int32) {
        self.code = code
    }

    public var description: String {
        String(cString: strerror(code))
    }
}
