import Foundation

/// Validates agreement reports against `schemas/report-v1.schema.json` with Python's `jsonschema`
/// (Draft 2020-12): Debian's `/usr/bin/python3` with `python3-jsonschema`, else `python3` on PATH.
public enum ReportSchema {
    /// The schema file in this checkout.
    public static var schemaPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("schemas/report-v1.schema.json").path
    }

    /// The `--json` result schema in this checkout.
    public static var resultSchemaPath: String {
        URL(fileURLWithPath: schemaPath).deletingLastPathComponent().appendingPathComponent("result-v1.schema.json").path
    }

    /// Validates a `--json` document (the text printed on stdout) against `result-v1.schema.json`.
    public static func validateResult(_ json: String) throws {
        let scratch = try TemporaryDirectory(prefix: "result")
        let path = scratch.file("result.json")
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        try validate(reportPath: path, schema: resultSchemaPath)
    }

    /// Exit status of the script when `jsonschema` cannot be imported.
    static let missingModuleStatus: Int32 = 3

    static let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            sys.exit(3)
        with open(sys.argv[1]) as f:
            schema = json.load(f)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as error:
            print("the schema itself is invalid: " + error.message)
            sys.exit(2)
        with open(sys.argv[2]) as f:
            report = json.load(f)
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(report), key=lambda e: str(list(e.absolute_path)))
        for error in errors:
            location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
            print(location + ": " + error.message)
        sys.exit(1 if errors else 0)
        """

    /// Throws a `FixtureError` listing every validation error when the report at `reportPath`
    /// does not match the schema (or when no Python with `jsonschema` is available).
    public static func validate(reportPath: String, schema schemaPath: String = schemaPath) throws {
        var last: Shell.Output?
        for python in ["/usr/bin/python3", "python3"] {
            guard python.hasPrefix("/") ? FileManager.default.isExecutableFile(atPath: python) : true else { continue }
            let output = try Shell.runCapturing([python, "-c", script, schemaPath, reportPath], timeout: .seconds(30))
            if output.status == missingModuleStatus {
                last = output
                continue
            }
            guard output.status == 0 else {
                throw FixtureError(
                    "\(reportPath) does not match \(schemaPath) (exit \(output.status)):\n\(output.stdout)\(output.stderr.suffix(2000))")
            }
            return
        }
        throw FixtureError(
            "no python3 with the jsonschema module was found (tried /usr/bin/python3 and python3 on PATH); "
                + "install it with `apt-get install -y python3-jsonschema`\(last.map { "; stderr: \($0.stderr.suffix(500))" } ?? "")")
    }
}
