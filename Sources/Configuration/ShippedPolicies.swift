/// The policies shipped in policies/, embedded so that an installed binary has them wherever it runs.
/// Generated from policies/*.toml; `ShippedPoliciesTests` fails when the two drift apart.
enum ShippedPolicies {
    static let names = ["strict", "tolerant", "paranoid", "three-days"]

    static let text: [String: String] = [
        "strict": """
            # strict — the default policy.
            # Every configured vantage must answer, at least three must, and all must agree.
            # One unreachable vantage is enough to refuse: use "tolerant" if routes are flaky.
            name = "strict"
            description = "Every configured vantage answers, at least three, and all agree."
            min_agreeing = 3              # answering vantages that must agree
            max_unavailable = 0           # vantages allowed to fail to answer (never to dissent)
            blob_verification = "source"  # blobs verified once, from one vantage, against the agreed digests
            require_route_kinds = []      # no particular kinds of route required
            allow_insecure_registries = true

            """,
        "tolerant": """
            # tolerant — for flaky routes.
            # At least three vantages must answer and agree; one configured vantage may fail to answer
            # (the CA/Browser Forum multi-perspective rule). A vantage that answers differently is never
            # tolerated: any disagreement still refuses the artifact.
            name = "tolerant"
            description = "At least three vantages answer and agree; at most one may be unavailable."
            min_agreeing = 3              # answering vantages that must agree
            max_unavailable = 1           # vantages allowed to fail to answer (never to dissent)
            blob_verification = "source"  # blobs verified once, from one vantage, against the agreed digests
            require_route_kinds = []      # no particular kinds of route required
            allow_insecure_registries = true

            """,
        "paranoid": """
            # paranoid — for high-value artifacts.
            # Like strict (every configured vantage answers, at least three, all agree), and in addition:
            # every vantage downloads and hashes every blob itself, at least one vantage goes through a
            # proxy (a route that does not start on this machine's network), and plain-HTTP registries are
            # refused.
            name = "paranoid"
            description = "Strict, plus every vantage hashes every blob, a proxy route is required, and no plain-HTTP registries."
            min_agreeing = 3                     # answering vantages that must agree
            max_unavailable = 0                  # vantages allowed to fail to answer (never to dissent)
            blob_verification = "every-vantage"  # every vantage downloads and hashes every blob
            require_route_kinds = ["proxy"]      # at least one answering vantage of each of these kinds
            allow_insecure_registries = false

            """,
        "three-days": """
            # three-days — the full 3TOFU procedure: three routes and three days.
            # Like strict (every configured vantage answers, at least three, all agree), and in addition the
            # agreed digest must have been seen, in agreeing runs recorded in the history, on at least three
            # distinct UTC days (this run included). Record the days with `3tofu watch` from a daily timer
            # (examples/3tofu-watch.timer). A tag that moved to another digest within the window is reported.
            name = "three-days"
            description = "Strict, plus the agreed digest was seen on at least three distinct UTC days."
            min_agreeing = 3              # answering vantages that must agree
            max_unavailable = 0           # vantages allowed to fail to answer (never to dissent)
            blob_verification = "source"  # blobs verified once, from one vantage, against the agreed digests
            require_route_kinds = []      # no particular kinds of route required
            allow_insecure_registries = true
            min_distinct_days = 3         # distinct UTC days the digest was seen on, in agreeing runs
            tag_moved = "warn"            # a tag re-pointed within the window is named in the verdict's reason

            """,
    ]
}
