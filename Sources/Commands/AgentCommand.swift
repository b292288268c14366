import ArgumentParser
import Foundation
import Remote
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `3tofu agent`: the remote end of an SSH vantage with `agent = "3tofu"`.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Fetch HTTP exchanges for a remote 3tofu (run over SSH for agent = \"3tofu\"; not for interactive use).",
        discussion: HelpText.wrap("""
            Reads \(AgentProtocol.version) requests (one JSON line each) from standard input, one \
            after another until it ends; performs each directly with this host's own network path, \
            DNS and CA store, and writes its reply to standard output: a JSON head line, then the \
            body. Requests, including tokens, come only on standard input. The protocol is \
            described in docs/AGENT-PROTOCOL.md.

            EXIT STATUS
              0  every request got a reply (a response or a transport error)
              2  a request could not be read (its reply is a JSON error line; the agent stops)
              3  a reply could not be written
            """),
        shouldDisplay: false
    )

    func run() async throws {
        let stdout = FileHandle.standardOutput
        let status = await RemoteAgent.serveAll(
            read: Self.readStandardInput, acknowledge: { FileHandle.standardError.write(RemoteAgent.acknowledgement) }
        ) { data in try stdout.write(contentsOf: data) }
        if status != 0 { throw ExitCode(status) }
    }

    /// What stdin has now (waiting for at least one byte), or nil at its end. read(2) itself:
    /// FileHandle's reads wait for a full buffer, and the next request must not wait for that.
    static func readStandardInput() throws -> Data? {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(STDIN_FILENO, &buffer, buffer.count)
            if count > 0 { return Data(buffer[..<count]) }
            if count == 0 { return nil }
            if errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }
}
