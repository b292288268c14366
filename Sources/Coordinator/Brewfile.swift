/// Pure reading of a Brewfile: the formulae of its `brew "name"` lines (taps, casks and other
/// lines are not bottles and are skipped; so are comments).
public enum Brewfile {
    public static func formulae(in text: String) -> [String] {
        var names: [String] = []
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            line = line.drop { $0 == " " || $0 == "\t" }
            guard line.hasPrefix("brew ") || line.hasPrefix("brew\t") || line.hasPrefix("brew(") else { continue }
            line = line.dropFirst(4).drop { $0 == " " || $0 == "\t" || $0 == "(" }
            guard let quote = line.first, quote == "\"" || quote == "'" else { continue }
            let rest = line.dropFirst()
            guard let end = rest.firstIndex(of: quote) else { continue }
            let name = String(rest[..<end])
            // A tap-qualified name ("owner/tap/name") is not in homebrew/core; keep its last part only
            // when it is homebrew/core's own.
            if name.hasPrefix("homebrew/core/") {
                names.append(String(name.dropFirst("homebrew/core/".count)))
            } else if !name.isEmpty, !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }
}
