import ArgumentParser
import Foundation
import Report

/// `3tofu keygen`: an Ed25519 key pair for signing agreement reports.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create an Ed25519 key pair for signing agreement reports (KEYFILE and KEYFILE.pub).",
        discussion: HelpText.wrap("""
            KEYFILE gets the private key (mode 0600): the raw 32-byte Ed25519 seed in base64 between \
            -----BEGIN 3TOFU ED25519 PRIVATE KEY----- and -----END 3TOFU ED25519 PRIVATE KEY----- lines. \
            KEYFILE.pub gets the public key as one line, "3tofu-ed25519 <base64>": give it to whoever \
            verifies your reports. Existing files are never overwritten unless --force is given.

            EXAMPLES
              3tofu keygen --output ~/.config/3tofu/report-key
              3tofu pull alpine:3.20 --output alpine.tar --report alpine.json --sign-key ~/.config/3tofu/report-key
              3tofu report verify alpine.json --key report-key.pub --artifact alpine.tar
            """)
    )

    @Option(name: .shortAndLong, help: ArgumentHelp("Private key file; the public key goes to FILE.pub.", valueName: "file"))
    var output: String

    @Flag(name: .long, help: "Replace existing key files.")
    var force = false

    func run() throws {
        let publicPath = output + ".pub"
        if !force {
            for path in [output, publicPath] where FileManager.default.fileExists(atPath: path) {
                throw ToolFailure(.badInput, "\(path) already exists; refusing to overwrite a key (choose another --output, or pass --force)")
            }
        }
        let key = ReportSigningKey()
        if let created = try ParentDirectory.ensure(for: output, what: "the key") {
            Terminal.note("Created the directory \(created) (mode 0700).")
        }
        try SmallFileWriter.write(Data(key.fileText.utf8), to: output, mode: 0o600)
        try SmallFileWriter.write(Data(key.publicKey.fileText.utf8), to: publicPath, mode: 0o644)
        Terminal.note("Wrote the private key to \(output) and the public key to \(publicPath).")
        Terminal.out(key.publicKey.fingerprint)
    }
}
