import Agreement
import Foundation
import Report
import Testing

/// Reports as `ReportFile.encode` writes them validate against schemas/report-v1.schema.json, and
/// the schema rejects what the contract forbids.
@Suite struct ReportSchemaTests {
    static var signed: AgreementReport {
        var report = ReportSamples.agree
        report.signature = .init(algorithm: "ed25519", publicKey: "MCowBQYDK2VwAyEAabcdefghijklmnop", value: "c2lnbmF0dXJl")
        return report
    }

    /// A report whose evidence has every optional field nil, and whose subject has no platform.
    static var sparse: AgreementReport {
        var report = ReportSamples.agree
        report.subject.platform = nil
        report.artifact = nil
        report.agreed?.image?.platformManifestDigest = nil
        report.vantages = report.vantages.map { vantage in
            var vantage = vantage
            vantage.observed?.image?.platformManifestDigest = nil
            vantage.evidence = .init(
                remoteIP: nil, effectiveURL: nil, urlChain: [], tlsCertificateSHA256: [], httpVersion: nil, dockerContentDigest: nil,
                timings: .init(nameLookup: 0, connect: 0, tlsHandshake: 0, firstByte: 0, total: 0), rateLimit: [:])
            return vantage
        }
        return report
    }

    /// `blob_verification = "every-vantage"`: what each vantage received is recorded too.
    static var everyVantage: AgreementReport {
        var image = ReportSamples.image()
        image.configReceived = image.configDigest
        image.layersReceived = image.layers.map(\.digest)
        var report = ReportSamples.agree
        report.agreed = .image(image)
        for index in report.vantages.indices { report.vantages[index].observed = .image(image) }
        return report
    }

    @Test func encodedReportsMatchTheSchema() throws {
        let reports = [
            sampleReport(), ReportSamples.agree, ReportSamples.disagree, ReportSamples.insufficient, Self.signed, Self.sparse, Self.everyVantage,
            ReportConsistencyTests.contradicted,
        ]
        #expect(ReportSamples.disagree.agreed == nil && ReportSamples.insufficient.vantages[1].observed == nil)
        let results = try SchemaCheck.errors(for: reports.map(ReportFile.encode))
        #expect(results.count == reports.count)
        for (index, errors) in results.enumerated() {
            #expect(errors.isEmpty, "report \(index): \(errors.joined(separator: "; "))")
        }
    }

    /// Each mutation of a valid report, and the error path the schema must report for it.
    static let violations: [(name: String, path: String, mutate: @Sendable (inout [String: Any]) -> Void)] = [
        ("verdict maybe", "verdict", { $0["verdict"] = "maybe" }),
        ("md5 digest", "agreed/topDigest", { json in
            var agreed = json["agreed"] as? [String: Any] ?? [:]
            agreed["topDigest"] = "md5:x"
            json["agreed"] = agreed
        }),
        ("uppercase layer digest", "vantages/0/observed/layers/0/digest", { json in
            var vantages = json["vantages"] as? [[String: Any]] ?? []
            var observed = vantages[0]["observed"] as? [String: Any] ?? [:]
            var layers = observed["layers"] as? [[String: Any]] ?? []
            layers[0]["digest"] = "sha256:ABC"
            observed["layers"] = layers
            vantages[0]["observed"] = observed
            json["vantages"] = vantages
        }),
        ("unknown top-level field", "(top level)", { $0["token"] = "secret" }),
        ("wrong schema id", "schema", { $0["schema"] = "3tofu.report/v2" }),
        ("status maybe", "vantages/1/status", { json in
            var vantages = json["vantages"] as? [[String: Any]] ?? []
            vantages[1]["status"] = "maybe"
            json["vantages"] = vantages
        }),
        ("subject kind", "subject/kind", { json in
            var subject = json["subject"] as? [String: Any] ?? [:]
            subject["kind"] = "tarball"
            json["subject"] = subject
        }),
        ("missing reason", "(top level)", { $0["reason"] = nil }),
        ("artifact without agreement", "artifact", { json in
            json["verdict"] = "disagree"
            json["agreed"] = nil
        }),
        ("failed vantage without error", "vantages/0", { json in
            var vantages = json["vantages"] as? [[String: Any]] ?? []
            vantages[0]["status"] = "error"
            json["vantages"] = vantages
        }),
        ("failed vantage with an observation", "vantages/0/observed", { json in
            var vantages = json["vantages"] as? [[String: Any]] ?? []
            vantages[0]["status"] = "error"
            vantages[0]["error"] = "connection refused"
            json["vantages"] = vantages
        }),
        ("received layer digest", "agreed/layersReceived/0", { json in
            var agreed = json["agreed"] as? [String: Any] ?? [:]
            agreed["layersReceived"] = ["md5:x"]
            json["agreed"] = agreed
        }),
        ("signature algorithm", "signature/algorithm", { json in
            json["signature"] = ["algorithm": "rsa", "publicKey": "k", "value": "v"]
        }),
    ]

    @Test func schemaRejectsWhatTheContractForbids() throws {
        let valid = try #require(try JSONSerialization.jsonObject(with: ReportFile.encode(ReportSamples.agree)) as? [String: Any])
        let documents = try Self.violations.map { violation in
            var json = valid
            violation.mutate(&json)
            return try JSONSerialization.data(withJSONObject: json)
        }
        let results = try SchemaCheck.errors(for: documents)
        for (violation, errors) in zip(Self.violations, results) {
            #expect(!errors.isEmpty, "\(violation.name) was accepted")
            #expect(errors.contains { $0.hasPrefix(violation.path + ": ") }, "\(violation.name): \(errors)")
        }
    }
}

/// Runs Python's jsonschema (Draft 2020-12) over several documents in one process.
/// (Tests/TestSupport/ReportSchema.swift does the same for one file; this target cannot import it.)
enum SchemaCheck {
    static var schemaPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/report-v1.schema.json").path
    }

    static let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            sys.exit(3)
        with open(sys.argv[1]) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        results = []
        for path in sys.argv[2:]:
            with open(path) as f:
                document = json.load(f)
            errors = sorted(validator.iter_errors(document), key=lambda e: str(list(e.absolute_path)))
            results.append([("/".join(str(p) for p in e.absolute_path) or "(top level)") + ": " + e.message for e in errors])
        print(json.dumps(results))
        """

    /// One list of "path: message" errors per document, in order.
    static func errors(for documents: [Data]) throws -> [[String]] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (index, document) in documents.enumerated() {
            let url = directory.appendingPathComponent("report-\(index).json")
            try document.write(to: url)
            paths.append(url.path)
        }
        for python in ["/usr/bin/python3", "/usr/bin/env"] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = (python.hasSuffix("env") ? ["python3"] : []) + ["-c", script, schemaPath] + paths
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if process.terminationStatus == 3 { continue }
            guard process.terminationStatus == 0, let results = try JSONSerialization.jsonObject(with: data) as? [[String]] else {
                throw ReportError("jsonschema check failed with status \(process.terminationStatus): \(errorText.suffix(2000))")
            }
            return results
        }
        throw ReportError("no python3 with the jsonschema module; install it with `apt-get install -y python3-jsonschema`")
    }
}
