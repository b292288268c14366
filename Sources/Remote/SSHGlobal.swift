import CSSH2
import Foundation

/// `libssh2_init` exactly once per process, before the first session.
enum SSHGlobal {
    private static let result: Int32 = libssh2_init(0)

    static func ensureInitialised() throws {
        guard result == 0 else {
            throw SSHError(.configuration, "libssh2 could not be initialised (libssh2_init returned \(result)); check the libssh2 installation")
        }
    }
}
