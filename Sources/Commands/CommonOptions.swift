import ArgumentParser

/// Options shared by every command that asks the vantages something.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Vantages file (TOML).", valueName: "file"))
    var vantages: String?

    @Option(name: .long, help: ArgumentHelp("Plain HTTP is allowed to this registry (repeatable).", valueName: "host[:port]"))
    var insecureRegistry: [String] = []

    @Option(name: .long, help: ArgumentHelp("Extra trusted CA certificates (PEM) for every vantage.", valueName: "file"))
    var caCert: String?

    @Flag(name: .long, help: "Print a machine-readable JSON result on stdout.")
    var json = false
}
