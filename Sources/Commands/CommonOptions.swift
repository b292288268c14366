import ArgumentParser

/// Options shared by every command that asks the vantages something.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Vantages file (TOML).", valueName: "file"))
    var vantages: String?

    @Option(name: .long, help: ArgumentHelp("Policy: strict (default), tolerant, paranoid, or a policy file.", valueName: "name|file"))
    var policy: String?

    @Option(name: .long, help: ArgumentHelp("Write the JSON agreement report here (also when the vantages disagree).", valueName: "file"))
    var report: String?

    @Option(name: .long, help: ArgumentHelp("Seconds one vantage may take to resolve before it counts as not answering.", valueName: "seconds"))
    var vantageTimeout: Double = 60

    @Option(name: .long, help: ArgumentHelp("Plain HTTP is allowed to this registry (repeatable).", valueName: "host[:port]"))
    var insecureRegistry: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Extra trusted CA certificates (PEM) for every vantage, this machine's and each proxy's; the file's certificates are also sent to every SSH host for its curl or agent. To trust a CA on one vantage only, set ca_cert = \"FILE\" in its [[vantage]] entry of the vantages file.",
        valueName: "file"))
    var caCert: String?

    @Option(name: .long, help: ArgumentHelp("Sign the report with this Ed25519 key (from `3tofu keygen`).", valueName: "keyfile"))
    var signKey: String?

    @Option(name: .long, help: ArgumentHelp("Also write the report as an in-toto Statement v1 here (only when the vantages agree).", valueName: "file"))
    var attestation: String?

    @Flag(name: .long, help: "Print a machine-readable JSON result on stdout.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("The observation history (default $THREETOFU_HISTORY, then $XDG_STATE_HOME/3tofu/history.sqlite).", valueName: "file"))
    var history: String?

    @Flag(name: .long, help: "Do not read or record the history (a policy with time rules then cannot be met).")
    var noHistory = false

    mutating func validate() throws {
        guard vantageTimeout > 0, vantageTimeout.isFinite else {
            throw ValidationError("--vantage-timeout must be a positive number of seconds")
        }
    }
}
