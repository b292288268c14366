import ArgumentParser

/// How a command that reads from a registry logs in (pull, resolve, bottle): the flags skopeo has.
/// Without them, logins come from the auth files and credential helpers (`LoginPlan`).
struct LoginOptions: ParsableArguments {
    /// The LOGINS paragraph of every such command's --help.
    static let discussion = """


        LOGINS
          A registry that wants a login gets one from --creds, or (unless --no-creds) from the first \
        auth file that has one, in skopeo's order: --authfile FILE or $REGISTRY_AUTH_FILE (then no other), \
        else ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.config/containers/auth.json, docker's config.json \
        ($DOCKER_CONFIG or ~/.docker). A credHelpers entry, or docker's credsStore, runs \
        docker-credential-NAME get on this machine (at most 30 s; not installed: exit 2; failed or hung: \
        exit 3). The login goes only to that registry, on every vantage (SSH: on stdin), never into a report.
          echo "$TOKEN" | 3tofu pull ghcr.io/org/app:1 --output app.tar --creds ci --password-stdin
        """

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Log in to the image's registry as USER. Without :PASSWORD the password is asked on the terminal (not echoed), or read from stdin with --password-stdin. A password given here is visible to other users of this machine (ps); prefer the prompt or --password-stdin.",
            valueName: "user[:password]"))
    var creds: String?

    @Flag(name: .long, help: "With --creds USER: read the password from stdin (one line) instead of asking on the terminal.")
    var passwordStdin = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read logins from this auth file (containers' auth.json or docker's config.json format) and from no other; default $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.config/containers/auth.json and docker's config.json (auths, credHelpers, credsStore) in that order.",
            valueName: "file"))
    var authfile: String?

    @Flag(name: .long, help: "Access the registry anonymously: read no auth file and run no credential helper.")
    var noCreds = false

    mutating func validate() throws {
        if noCreds && (creds != nil || authfile != nil) {
            throw ValidationError("--no-creds cannot be combined with --creds or --authfile: choose anonymous access or a login")
        }
        if creds != nil && authfile != nil {
            throw ValidationError("--creds and --authfile both give logins: choose one")
        }
        if passwordStdin {
            guard let creds else {
                throw ValidationError("--password-stdin reads the password for --creds USER; give --creds USER too")
            }
            if creds.contains(":") {
                throw ValidationError("--creds already holds a password (USER:PASSWORD); with --password-stdin give --creds USER alone")
            }
        }
        if let creds, creds.isEmpty || creds.hasPrefix(":") {
            throw ValidationError("--creds needs a user name: --creds USER or --creds USER:PASSWORD")
        }
    }
}
