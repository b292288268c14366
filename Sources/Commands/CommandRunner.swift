import ArgumentParser
import Foundation

/// Parses arguments, runs the command, and turns every outcome into an exit code from DESIGN.md:
/// 0 agreed and written, 1 disagreement, 2 usage/configuration/bad input, 3 policy not met.
public enum CommandRunner {
    public static func run(arguments: [String]) async -> Int32 {
        var command: any ParsableCommand
        do {
            command = try ThreeTofu.parseAsRoot(arguments)
        } catch {
            let code = parserExit(error)
            // --json promises a document for every outcome, a command line that did not parse too.
            if code != 0, let name = ResultDocument.commandName(unparsed: arguments) {
                ResultDocument(command: name).print(exitCode: code, error: ThreeTofu.fullMessage(for: error))
            }
            return code
        }
        var document: ResultDocument?
        if let resultCommand = command as? any ResultCommand {
            Terminal.quiet = resultCommand.common.quiet
            if resultCommand.printsDocument { document = ResultDocument(command: resultCommand.resultName) }
        }
        let (code, message) = await ResultDocument.$current.withValue(document) { await execute(&command) }
        document?.print(exitCode: code, error: message)
        return code
    }

    /// Runs the parsed command: its exit code, and the error it ended with (nil on success).
    static func execute(_ command: inout any ParsableCommand) async -> (Int32, String?) {
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return (0, nil)
        } catch {
            // What ArgumentParser throws from a run ends as it says: help for a command that has
            // only subcommands, CleanExit, ExitCode (the agent's remote status).
            let parser = ThreeTofu.exitCode(for: error)
            if error is ExitCode || parser == .success || parser == .validationFailure {
                let code = parserExit(error)
                return (code, code == 0 ? nil : ThreeTofu.fullMessage(for: error))
            }
            let failure = ToolFailure(error)
            Terminal.error(failure.message)
            return (failure.code.rawValue, failure.message)
        }
    }

    /// Usage errors, help and version, as ArgumentParser says them; its usage code (64) becomes 2.
    static func parserExit(_ error: any Error) -> Int32 {
        let code = ThreeTofu.exitCode(for: error)
        let message = ThreeTofu.fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { Terminal.out(message) }
            return 0
        }
        Terminal.error(message)
        return code == .validationFailure ? ToolFailure.Code.badInput.rawValue : code.rawValue
    }
}
