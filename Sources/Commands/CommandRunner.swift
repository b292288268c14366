import ArgumentParser
import Configuration
import Foundation
import OCI

/// Parses arguments, runs the command, and turns every outcome into an exit code from DESIGN.md:
/// 0 agreed and written, 1 disagreement, 2 usage/configuration/bad input, 3 policy not met.
public enum CommandRunner {
    public static func run(arguments: [String]) async -> Int32 {
        do {
            var command = try ThreeTofu.parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let failure as ToolFailure {
            Terminal.error(failure.message)
            return failure.code.rawValue
        } catch let error as ConfigurationError {
            Terminal.error(error.description)
            return ToolFailure.Code.badInput.rawValue
        } catch let error as OCIError {
            Terminal.error(error.message)
            return ToolFailure.Code.badInput.rawValue
        } catch {
            let code = ThreeTofu.exitCode(for: error)
            let message = ThreeTofu.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Terminal.out(message) }
                return 0
            }
            Terminal.error(message)
            // ArgumentParser uses EX_USAGE (64) for usage errors; the contract says 2.
            return code == .validationFailure ? ToolFailure.Code.badInput.rawValue : code.rawValue
        }
    }
}
