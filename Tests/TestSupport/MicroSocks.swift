import Foundation

/// A real SOCKS5 proxy (`microsocks`) on 127.0.0.1:<free port>, optionally with user/password auth.
public final class MicroSocks: Sendable {
    public let port: Int
    public let user: String?
    public let password: String?
    public let process: ManagedProcess

    /// Starts microsocks and waits until its port accepts connections. `bind`: the address its
    /// outgoing connections leave from (a `ShapedRoute` can pass them unshaped).
    public init(user: String? = nil, password: String? = nil, bind: String? = nil, executable: String = "microsocks") async throws {
        var lastError: Error?
        for _ in 0..<3 {
            let port = try FreePort.pick()
            var arguments = ["-i", "127.0.0.1", "-p", String(port)]
            if let user, let password { arguments += ["-u", user, "-P", password] }
            if let bind { arguments += ["-b", bind] }
            let process = try ManagedProcess(executable: executable, arguments: arguments)
            do {
                try await process.waitForPort(port, timeout: .seconds(10))
                self.port = port
                self.user = user
                self.password = password
                self.process = process
                return
            } catch {
                process.stop()
                lastError = error
                if !process.log().lowercased().contains("address already in use") { break }
            }
        }
        throw lastError ?? FixtureError("microsocks did not start")
    }

    /// "socks5h://127.0.0.1:PORT" (names resolved by the proxy) when `h`, else "socks5://127.0.0.1:PORT";
    /// with `user:password@` when auth is on.
    public func url(h: Bool = true) -> String {
        let scheme = h ? "socks5h" : "socks5"
        var userInfo = ""
        if let user, let password { userInfo = "\(user):\(password)@" }
        return "\(scheme)://\(userInfo)127.0.0.1:\(port)"
    }

    /// Stops microsocks (SIGTERM, then SIGKILL after 3 s).
    public func stop() {
        process.stop()
    }
}
