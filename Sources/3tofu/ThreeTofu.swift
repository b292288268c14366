import Commands
import Foundation

@main
enum Main {
    static func main() async {
        let status = await CommandRunner.run(arguments: Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }
}
