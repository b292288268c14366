import Agreement
import Configuration
import Foundation
import Testing

@Suite struct PolicyFileTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theDefaultIsStrict() throws {
        let policy = try PolicyFile.load(nil)
        #expect(policy.name == "strict")
        #expect(policy.minAgreeing == 3)
        #expect(policy.maxUnavailable == 0)
        #expect(policy.blobVerification == .source)
        #expect(policy.sha256.count == 64)
    }

    @Test(arguments: ["strict", "tolerant", "paranoid", "three-days"])
    func shippedPoliciesAreTheFilesInPoliciesFolder(_ name: String) throws {
        // The embedded copy and policies/NAME.toml must be the same text: same SHA-256, same values.
        let path = Self.repositoryRoot.appendingPathComponent("policies/\(name).toml").path
        let fromFile = try PolicyFile.load(path)
        let builtIn = try PolicyFile.load(name)
        #expect(fromFile == builtIn)
        #expect(builtIn.name == name)
    }

    @Test func theShippedPoliciesSayWhatTheDesignSays() throws {
        let tolerant = try PolicyFile.load("tolerant")
        #expect(tolerant.minAgreeing == 3 && tolerant.maxUnavailable == 1)
        let paranoid = try PolicyFile.load("paranoid")
        #expect(paranoid.blobVerification == .everyVantage)
        #expect(paranoid.requireRouteKinds == ["proxy"])
        #expect(paranoid.allowInsecureRegistries == false)
        #expect(paranoid.maxUnavailable == 0)
        #expect(paranoid.timeRules == TimeRules())
        let threeDays = try PolicyFile.load("three-days")
        #expect(threeDays.minAgreeing == 3 && threeDays.maxUnavailable == 0 && threeDays.blobVerification == .source)
        #expect(threeDays.timeRules == TimeRules(minDistinctDays: 3, minFirstSeenSeconds: 0, tagMoved: .warn))
    }

    @Test func timeRulesAreReadFromThePolicyFile() throws {
        let text = Self.valid + "\nmin_distinct_days = 2\nmin_first_seen = \"72h\"\ntag_moved = \"refuse\"\n"
        let policy = try PolicyFile.parse(text: text, path: "my.toml")
        #expect(policy.timeRules == TimeRules(minDistinctDays: 2, minFirstSeenSeconds: 72 * 3600, tagMoved: .refuse))
        // Absent: no time rule, so no history is needed.
        #expect(try PolicyFile.parse(text: Self.valid, path: "my.toml").timeRules.needHistory == false)
    }

    static let valid = """
        name = "mine"
        description = "d"
        min_agreeing = 2
        max_unavailable = 0
        blob_verification = "source"
        require_route_kinds = ["ssh"]
        allow_insecure_registries = false
        """

    struct Bad: Sendable, CustomTestStringConvertible {
        var replace: String
        var with: String
        var field: String
        var line: Int?
        var testDescription: String { "\(field): \(with)" }
    }

    @Test(arguments: [
        Bad(replace: "min_agreeing = 2", with: "min_agreeing = 0", field: "min_agreeing", line: 3),
        Bad(replace: "min_agreeing = 2", with: "min_agreeing = \"two\"", field: "min_agreeing", line: 3),
        Bad(replace: "max_unavailable = 0", with: "max_unavailable = -1", field: "max_unavailable", line: 4),
        Bad(replace: "\"source\"", with: "\"sometimes\"", field: "blob_verification", line: 5),
        Bad(replace: "[\"ssh\"]", with: "[\"pigeon\"]", field: "require_route_kinds", line: 6),
        Bad(replace: "[\"ssh\"]", with: "\"ssh\"", field: "require_route_kinds", line: 6),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = \"no\"", field: "allow_insecure_registries", line: 7),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\nmax_dissent = 1", field: "max_dissent", line: 8),
        Bad(replace: "name = \"mine\"\n", with: "", field: "name", line: nil),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\nmin_distinct_days = -1", field: "min_distinct_days", line: 8),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\nmin_distinct_days = \"3\"", field: "min_distinct_days", line: 8),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\nmin_first_seen = \"three days\"", field: "min_first_seen", line: 8),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\nmin_first_seen = \"-72h\"", field: "min_first_seen", line: 8),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\nmin_first_seen = 72", field: "min_first_seen", line: 8),
        Bad(replace: "allow_insecure_registries = false", with: "allow_insecure_registries = false\ntag_moved = \"sometimes\"", field: "tag_moved", line: 8),
    ])
    func mistakesNameFileFieldAndLine(_ bad: Bad) {
        let text = Self.valid.replacingOccurrences(of: bad.replace, with: bad.with)
        do {
            _ = try PolicyFile.parse(text: text, path: "my.toml")
            Issue.record("accepted: \(text)")
        } catch let error as ConfigurationError {
            #expect(error.field == bad.field, "\(error)")
            #expect(error.line == bad.line, "\(error)")
            #expect(error.description.hasPrefix("my.toml"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func unknownNamesAndMissingFilesAreClear() {
        #expect(throws: ConfigurationError.self) { try PolicyFile.load("lenient") }
        #expect(throws: ConfigurationError.self) { try PolicyFile.load("/nonexistent/policy.toml") }
        do {
            _ = try PolicyFile.load("lenient")
        } catch {
            #expect("\(error)".contains("strict, tolerant, paranoid"))
        }
    }

    @Test func theHashIsOverTheExactText() throws {
        let a = try PolicyFile.parse(text: Self.valid, path: "a")
        let b = try PolicyFile.parse(text: Self.valid + "\n# a comment\n", path: "b")
        #expect(a.minAgreeing == b.minAgreeing)
        #expect(a.sha256 != b.sha256)
    }
}
