import Foundation

/// Pure reading of published checksum files: GNU `sha256sum` lines (`<hex>  <name>`, `<hex> *<name>`)
/// and BSD `shasum --tag` lines (`SHA256 (<name>) = <hex>`).
public enum ChecksumFile {
    /// The file name a URL names: its last path component, percent-decoded.
    public static func fileName(of url: String) -> String? {
        guard let parsed = URL(string: url) else { return nil }
        let name = parsed.lastPathComponent
        guard !name.isEmpty, name != "/" else { return nil }
        return name.removingPercentEncoding ?? name
    }

    /// Every (name, lowercase hex SHA-256) entry, in order; lines that are not SHA-256 entries are skipped.
    public static func entries(_ text: String) -> [(name: String, sha256: String)] {
        var found: [(String, String)] = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("SHA256 ("), let close = line.range(of: ") = ", options: .backwards) {
                let name = String(line[line.index(line.startIndex, offsetBy: 8)..<close.lowerBound])
                let hex = String(line[close.upperBound...]).trimmingCharacters(in: .whitespaces).lowercased()
                if isSHA256Hex(hex) { found.append((name, hex)) }
                continue
            }
            guard let space = line.firstIndex(of: " ") else { continue }
            let hex = line[..<space].lowercased()
            guard isSHA256Hex(hex) else { continue }
            var name = line[line.index(after: space)...].drop { $0 == " " }
            if name.hasPrefix("*") { name = name.dropFirst() }
            if !name.isEmpty { found.append((String(name), hex)) }
        }
        return found
    }

    /// The SHA-256 the file publishes for `name` (an entry named exactly so, or `./name`, or a
    /// path ending in `/name`); nil when it lists none. Two different checksums for the name: nil.
    public static func sha256(for name: String, in text: String) -> String? {
        let matches = entries(text).filter { entry in
            entry.name == name || entry.name == "./" + name || entry.name.hasSuffix("/" + name)
        }
        let values = Set(matches.map(\.sha256))
        return values.count == 1 ? values.first : nil
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
