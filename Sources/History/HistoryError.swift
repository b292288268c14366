import Foundation
import GRDB

/// Why the history could not be read or written: what, where, and what to do.
public struct HistoryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case corrupt, locked, unavailable, newerSchema }
    public var kind: Kind
    public var path: String
    public var message: String

    public var description: String { "history \(path): \(message)" }

    init(kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// A database error as the user can act on it.
    init(_ error: any Error, path: String) {
        if let error = error as? HistoryError {
            self = error
            return
        }
        guard let database = error as? DatabaseError else {
            self.init(kind: .unavailable, path: path, message: "\(error); use --history FILE for another file, or --no-history")
            return
        }
        switch database.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            self.init(
                kind: .corrupt, path: path,
                message: "the file is not a readable SQLite database (corrupt?); move it aside (a new history starts there) or use --history FILE / --no-history")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self.init(
                kind: .locked, path: path,
                message: "the database stayed locked by another process for too long; try again when it has finished, or use --no-history")
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_IOERR, .SQLITE_FULL:
            self.init(
                kind: .unavailable, path: path,
                message: "cannot open or write it (\(database.message ?? "\(database.resultCode)")); check the directory's permissions and free space, or use --history FILE / --no-history")
        default:
            self.init(kind: .unavailable, path: path, message: "\(database.message ?? "\(database.resultCode)"); use --history FILE for another file, or --no-history")
        }
    }
}
