import ArgumentParser
import BuildInfo

/// The root command: `3tofu SUBCOMMAND`.
public struct ThreeTofu: AsyncParsableCommand {
    /// The release version, as reports record it (`tool.version`).
    public static let version = BuildInfo.version

    public static let configuration = CommandConfiguration(
        commandName: "3tofu",
        abstract: "Triple trust on first use: verify a download across independent network routes.",
        discussion: HelpText.wrap("""
            3tofu asks several vantage points (this machine, proxies such as Tor, remote hosts) to resolve \
            the same artifact, compares what each saw, and writes the artifact only when every vantage \
            that answered agrees.

            Vantages are read from --vantages FILE, else $THREETOFU_VANTAGES, else \
            ~/.config/3tofu/vantages.toml (`3tofu vantages init` writes a starter one). Downloaded blobs are cached, \
            verified, in $THREETOFU_CACHE, else $XDG_CACHE_HOME/3tofu, else ~/.cache/3tofu. Runs may \
            share it at the same time; a cache other users can write is refused unless \
            THREETOFU_CACHE_SHARED=1 says they are trusted.

            TUNING (environment)
              THREETOFU_LOW_SPEED_LIMIT, THREETOFU_LOW_SPEED_TIME  a transfer slower than LIMIT bytes/s \
            (default 1024) for TIME seconds (default 30) is abandoned and retried, resuming where it stopped.

            EXIT STATUS
              0  all answering vantages agree, policy met, artifact written
              1  vantages disagree (nothing written)
              2  usage, configuration or bad input
              3  policy not met for another reason: too few answers, network or I/O failure
            """),
        version: BuildInfo.versionLine,
        subcommands: [PullCommand.self, ResolveCommand.self, ReportCommand.self, VantagesCommand.self, KeygenCommand.self,
            BottleCommand.self, FetchCommand.self, AgentCommand.self, WatchCommand.self, HistoryCommand.self,
        ]
    )

    public init() {}
}
