import ArgumentParser
import Foundation
import Report

/// `3tofu report`: work with agreement reports written by `--report FILE`.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Read and verify agreement reports written with --report.",
        subcommands: [ReportShowCommand.self, ReportVerifyCommand.self]
    )
}

/// `3tofu report show`: the report for people, as terminal text or Markdown for an issue.
struct ReportShowCommand: ParsableCommand {
    enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, markdown, html
    }

    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show an agreement report as a table: who saw what, by which route, and the verdict.",
        discussion: HelpText.wrap("""
            Prints the subject, policy and verdict, one row per vantage with the digests it saw (values \
            that differ from the majority in bold red on a terminal, marked with ! otherwise), each \
            vantage's evidence (remote IP, final URL, HTTP version, TLS leaf certificate, rate limit) \
            and what was written. Nothing is re-verified: a signature is shown, not checked.

            --format markdown prints a table with full digests that pastes into a GitHub or GitLab \
            issue; disagreeing values are bold and marked ⚠. --format html prints one self-contained \
            page (no scripts or external resources) with the matrix, dissent highlighted, and the evidence.

            EXAMPLES
              3tofu report show alpine.report.json
              3tofu report show alpine.report.json --format markdown > comment.md
              3tofu report show alpine.report.json --format html > alpine.report.html
              3tofu resolve nginx --report r.json; 3tofu report show r.json
            """)
    )

    @Argument(help: ArgumentHelp("A report written by --report FILE.", valueName: "report"))
    var report: String

    @Option(name: .long, help: ArgumentHelp("text for the terminal, markdown for an issue or pull request, html for a browser.", valueName: "format"))
    var format: Format = .text

    func run() throws {
        let agreement: AgreementReport
        do {
            agreement = try ReportFile.read(report)
        } catch let error as ReportError {
            throw ToolFailure(.badInput, error.message)
        }
        switch format {
        case .text:
            let color = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            let text = ReportRenderer.text(agreement, color: color)
            if color {
                // Coloured text carries the renderer's own escape sequences; the renderer cleans every
                // value from the report (TextStyle.clean), so this is the one print that is not sanitized here.
                print(text, terminator: "")
            } else {
                Terminal.out(text, terminator: "")
            }
        case .markdown:
            Terminal.out(ReportRenderer.markdown(agreement), terminator: "")
        case .html:
            Terminal.out(ReportHTML.render(agreement), terminator: "")
        }
    }
}
