import Commands
import Foundation

@main
enum Main {
    static func main() async {
        let status = await CommandRunner.run(arguments: Array(CommandLine.arguments.dropFirst()))
        // Flush what was printed, then leave without running global destructors: a vantage's
        // transfer or SSH session still winding down on another thread must not race libcurl's or
        // libssh2's teardown. Everything 3tofu writes is complete (files are renamed into place) by now.
        fflush(nil)
        _exit(status)
    }
}
