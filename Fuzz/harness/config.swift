import Agreement
import Configuration

// libFuzzer target: the TOML-to-config mapping (Sources/Configuration): TOMLPrecheck, TOMLKit and
// toml++ underneath, then VantagesFile.parse and PolicyFile.parse on the same text. Every input
// must give a value or a ConfigurationError naming the file (never a crash, an abort in toml++,
// or another error type), with a line number inside the text when it gives one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The loaders refuse what is not UTF-8 before parsing; replacement characters stand in here.
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.utf8.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }

    func check(_ error: any Error, _ path: String) {
        guard let error = error as? ConfigurationError else {
            preconditionFailure("\(path): not a ConfigurationError: \(type(of: error)): \(error)")
        }
        precondition(error.file == path && error.description.hasPrefix(path), "the error does not name the file: \(error)")
        if let line = error.line {
            precondition(line >= 1 && line <= lines, "line \(line) is outside the \(lines) lines of the text: \(error)")
        }
    }

    do {
        let file = try VantagesFile.parse(text: text, path: "/fuzz/vantages.toml", environment: ["HOME": "/home/fuzz"])
        precondition(!file.vantages.isEmpty, "a vantages file without vantages was accepted")
        precondition(Set(file.vantages.map(\.name)).count == file.vantages.count, "duplicate vantage names were accepted")
        for vantage in file.vantages {
            precondition(!vantage.name.isEmpty && (1...65535).contains(vantage.port), "a bad vantage was accepted: \(vantage)")
            if vantage.kind == .proxy { precondition(vantage.proxy != nil, "a proxy vantage without a proxy was accepted") }
            if vantage.kind == .ssh { precondition(vantage.host?.isEmpty == false, "an SSH vantage without a host was accepted") }
        }
    } catch {
        check(error, "/fuzz/vantages.toml")
    }

    do {
        let policy = try PolicyFile.parse(text: text, path: "/fuzz/policy.toml")
        precondition(!policy.name.isEmpty && policy.minAgreeing >= 1 && policy.minAgreeing <= 1000, "a bad policy was accepted: \(policy)")
        precondition(policy.sha256.utf8.count == 64, "the policy hash is not 64 hex digits: \(policy.sha256)")
    } catch {
        check(error, "/fuzz/policy.toml")
    }
    return 0
}
