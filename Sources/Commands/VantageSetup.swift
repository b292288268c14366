import Agreement
import Artifacts
import Configuration
import Coordinator
import Foundation
import Registry

/// The options every vantage command shares (vantages, policy, cache, report), read
/// and checked once: what `fetch` and `bottle` need without an image reference.
struct VantageSetup {
    var vantages: [VantageSpec]
    var policy: Policy
    var insecureRegistries: Set<String>
    var credentials: RegistryCredentials
    var storeRoot: String
    var json: Bool
    var reportPath: String?
    var vantageTimeout: Double
    var caCert: String?
    /// Where the vantages file was looked for, when there was none.
    var missingVantagesFile: String?

    init(common: CommonOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        policy = try PolicyFile.load(common.policy)
        if let path = VantagesFile.locate(explicit: common.vantages, environment: environment) {
            vantages = try VantagesFile.load(path: path, environment: environment).vantages
        } else {
            // Said before any network work (`checkVantages`): this machine alone is all there is to ask.
            missingVantagesFile = VantagesFile.defaultPath(environment: environment)
            vantages = [VantageSpec.thisMachine]
        }
        reportPath = common.report
        vantageTimeout = common.vantageTimeout
        insecureRegistries = Set(common.insecureRegistry.map { $0.lowercased() })
        // Logins are found by the commands that read from a registry (`Logins.resolve`), once the
        // rest of the setup is known to be good.
        credentials = .none
        storeRoot = ContentStore.defaultRoot(environment: environment)
        do {
            try ContentStore.checkRoot(storeRoot, allowSharedWriters: environment["THREETOFU_CACHE_SHARED"] == "1")
        } catch let error as ArtifactsError {
            throw ToolFailure(.badInput, error.message)
        }
        json = common.json
        caCert = common.caCert
        if let caCert, !FileManager.default.isReadableFile(atPath: caCert) {
            throw ToolFailure(.badInput, "cannot read --ca-cert \(caCert); give a PEM file of CA certificates")
        }
    }

    /// Without a vantages file: refuses (exit 3) a policy this machine alone cannot meet, else
    /// notes that only this machine is asked. Called once the paths are checked, before any network.
    func checkVantages() throws {
        if let missingVantagesFile { try MissingVantages.check(policy: policy, lookedFor: missingVantagesFile) }
    }
}
