import ArgumentParser
import Foundation
import Remote

/// `3tofu agent`: the remote end of an SSH vantage with `agent = "3tofu"`.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Fetch one HTTP exchange for a remote 3tofu (run over SSH for agent = \"3tofu\"; not for interactive use).",
        discussion: HelpText.wrap("""
            Reads one \(AgentProtocol.version) request (a JSON line) from standard input, performs it \
            directly with this host's own network path, DNS and CA store, and writes the reply to \
            standard output: a JSON head line, then the body. Requests, including tokens, come only \
            on standard input. The protocol is described in docs/AGENT-PROTOCOL.md.

            EXIT STATUS
              0  a reply (a response or a transport error) was written
              2  the request could not be read (the reply is a JSON error line)
              3  the reply could not be written
            """),
        shouldDisplay: false
    )

    func run() async throws {
        var input = Data()
        let stdin = FileHandle.standardInput
        while let chunk = try stdin.read(upToCount: 1 << 16), !chunk.isEmpty {
            input.append(chunk)
            if input.count > AgentProtocol.maximumRequestSize { break }
        }
        let stdout = FileHandle.standardOutput
        let status = await RemoteAgent.serve(input) { data in try stdout.write(contentsOf: data) }
        if status != 0 { throw ExitCode(status) }
    }
}
