import ArgumentParser
import Coordinator
import Foundation
import OCI

/// `3tofu resolve`: agree on a reference's digest without downloading layers.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Agree on an image's digest across vantages and print REFERENCE@sha256:… (no layer download).",
        discussion: HelpText.wrap("""
            Use the printed reference to pin images in Dockerfiles and compose files: whoever pulls by \
            digest gets exactly what every vantage saw.

            EXAMPLES
              3tofu resolve alpine:3.20
              FROM $(3tofu resolve python:3.12-slim)
            """ + LoginOptions.discussion)
    )

    @Argument(help: ArgumentHelp("Image reference.", valueName: "reference"))
    var reference: String

    @Option(name: .long, help: ArgumentHelp("Platform whose manifest is compared for a multi-platform image.", valueName: "os/arch[/variant]"))
    var platform: String?

    @OptionGroup var common: CommonOptions

    @OptionGroup(title: "Logins") var login: LoginOptions

    func run() async throws {
        let setup = try RunSetup(reference: reference, platform: platform, common: common, login: login)
        try setup.shared.checkVantages()
        var request = PullRequest(
            reference: setup.reference, platform: setup.platform, vantages: setup.vantages, policy: setup.policy,
            insecureRegistries: setup.insecureRegistries, caCertificatePath: common.caCert, credentials: setup.credentials,
            storeRoot: setup.storeRoot, vantageTimeout: setup.vantageTimeout, output: nil)
        request.history = try setup.loadHistory()
        // The report and attestation are kept only if the whole run succeeds.
        try await RunJournal.run { journal in
            let result = try await setup.execute(request, journal: journal)
            guard let agreed = result.decision.agreed else { throw ToolFailure(.notMet, result.decision.reason) }
            let pinned = setup.reference.pinned(to: try Digest(parsing: agreed.topDigest))
            if common.json {
                try printJSON(["reference": pinned.description, "digest": agreed.topDigest, "verdict": result.decision.verdict.rawValue])
            } else {
                Terminal.out(pinned.description)
            }
        }
    }
}
