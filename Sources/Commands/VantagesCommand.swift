import ArgumentParser
import Configuration
import Coordinator
import Foundation

/// `3tofu vantages check`: is every configured vantage usable right now?
struct VantagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vantages",
        abstract: "Write a starter vantages file (init), or test the configured vantages (check).",
        subcommands: [VantagesInitCommand.self, VantagesCheckCommand.self]
    )
}

struct VantagesCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Reach a registry through every vantage and say, per vantage, whether it works and why not.",
        discussion: HelpText.wrap("""
            Each vantage sends GET /v2/ to the registry through its own route (direct, its proxy) and \
            reports the answer, the remote address it reached, the HTTP version and the TLS leaf \
            certificate's fingerprint. A 401 is a working route: registries ask for a token there.

            Exits 0 when every vantage works, 3 when any does not, 2 for a configuration mistake.

            EXAMPLES
              3tofu vantages check
              3tofu vantages check --vantages ~/vantages.toml --registry ghcr.io
            """)
    )

    @Option(name: .long, help: ArgumentHelp("Vantages file (TOML).", valueName: "file"))
    var vantages: String?

    @Option(name: .long, help: ArgumentHelp("Registry to reach (default: Docker Hub).", valueName: "host[:port]"))
    var registry: String = "registry-1.docker.io"

    @Option(name: .long, help: ArgumentHelp("Plain HTTP is allowed to this registry (repeatable).", valueName: "host[:port]"))
    var insecureRegistry: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Extra trusted CA certificates (PEM) for every vantage, SSH hosts included; for one vantage only, set ca_cert in its [[vantage]] entry.",
        valueName: "file"))
    var caCert: String?

    @Option(name: .long, help: ArgumentHelp("Seconds each vantage may take.", valueName: "seconds"))
    var timeout: Double = 20

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = VantagesFile.locate(explicit: vantages, environment: environment) else {
            throw ToolFailure(.badInput, "no vantages file: looked for \(VantagesFile.defaultPath(environment: environment)) (no --vantages FILE, $THREETOFU_VANTAGES is not set). Write a starter file there with `3tofu vantages init`, then run this again.")
        }
        let file = try VantagesFile.load(path: path, environment: environment)
        Terminal.out("vantages from \(path), reaching \(registry):")
        let outcomes = await VantageCheck.run(
            vantages: file.vantages, registry: registry.lowercased(), insecureRegistries: Set(insecureRegistry.map { $0.lowercased() }),
            caCertificatePath: caCert, timeout: timeout)
        let nameWidth = outcomes.map(\.name.count).max() ?? 0
        let routeWidth = outcomes.map(\.route.count).max() ?? 0
        for outcome in outcomes {
            let status = outcome.ok ? "ok    " : "FAILED"
            Terminal.out("  \(outcome.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(outcome.route.padding(toLength: routeWidth, withPad: " ", startingAt: 0))  \(status)  \(outcome.detail)")
        }
        let failed = outcomes.filter { !$0.ok }
        if !failed.isEmpty {
            throw ToolFailure(.notMet, "\(failed.count) of \(outcomes.count) vantages do not work: \(failed.map(\.name).joined(separator: ", "))")
        }
    }
}
