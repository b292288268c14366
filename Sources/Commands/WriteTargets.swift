import Artifacts

/// Every path a run will write, checked together before any vantage is asked, so that a run
/// which cannot write one of them fails at once (exit 2) instead of after the download, with the
/// artifact written and the report missing. Each path gets the check its writer makes at the end
/// (`ArtifactWriter.checkDestination`): an existing directory it can write, no directory, device,
/// FIFO or socket where a file goes, and for an OCI layout a new, empty or layout directory.
/// Only looks; writes nothing.
struct WriteTargets {
    struct Target {
        /// The option that named the path, for messages: `--output`, `--report`, `--attestation`.
        var option: String
        var path: String
        /// The image format written there; nil for a plain file (a fetched file, a report).
        var format: OutputFormat?
        /// Said after a refusal because the path is a device, FIFO or socket.
        var specialAdvice: String?
    }

    var targets: [Target] = []

    mutating func add(_ option: String, _ path: String?, format: OutputFormat? = nil, specialAdvice: String? = nil) {
        guard let path else { return }
        targets.append(Target(option: option, path: ArtifactWriter.trimmingTrailingSlashes(path), format: format, specialAdvice: specialAdvice))
    }

    /// The report and attestation paths of `outputs`, as `rename` turns each asked-for path into the
    /// written ones (one per image of a bundle, one per formula).
    mutating func addReports(_ outputs: ReportOutputs, rename: (String) -> [String] = { [$0] }) {
        for path in outputs.reportPath.map(rename) ?? [] { add("--report", path) }
        for path in outputs.attestationPath.map(rename) ?? [] { add("--attestation", path) }
    }

    /// Throws `ToolFailure(.badInput)` naming the option and path of the first target that cannot be written.
    func check() throws {
        for target in targets {
            do {
                if let format = target.format {
                    try ArtifactWriter.checkDestination(target.path, format: format)
                } else {
                    try ArtifactWriter.checkFileDestination(target.path)
                }
            } catch let error as ArtifactsError {
                var message = "\(target.option): \(error.message)"
                if error.code == .notRegularFile, let advice = target.specialAdvice { message += "; \(advice)" }
                throw ToolFailure(.badInput, message + ". Nothing was asked or written")
            }
        }
        var seen: [String: String] = [:]
        for target in targets {
            if let other = seen[target.path] {
                throw ToolFailure(.badInput, "\(other) and \(target.option) both name \(target.path); give each its own path")
            }
            seen[target.path] = target.option
        }
    }
}
