import Foundation
import OCI

/// The list of images a bundle holds (`pull --images-from FILE`): one reference per line,
/// optionally followed by a platform (`alpine:3.20 linux/arm64`); `#` starts a comment; blank
/// lines are skipped. Mistakes are reported as `FILE:LINE: what is wrong`.
public struct ImagesFile: Sendable, Equatable {
    /// One image line.
    public struct Entry: Sendable, Equatable {
        /// 1-based line number in the file.
        public var line: Int
        /// The reference as written.
        public var text: String
        public var reference: ImageReference
        /// The platform given on the line; nil means the command's `--platform` (or the host's).
        public var platform: Platform?

        public init(line: Int, text: String, reference: ImageReference, platform: Platform?) {
            self.line = line
            self.text = text
            self.reference = reference
            self.platform = platform
        }
    }

    public var path: String
    public var entries: [Entry]

    /// Reads and parses the file at `path`.
    public static func load(path: String) throws -> ImagesFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CoordinatorError(.badInput, "cannot read --images-from \(path); check the path")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CoordinatorError(.badInput, "\(path) is not UTF-8 text; give one image reference per line")
        }
        return try ImagesFile(parsing: text, path: path)
    }

    /// Parses `text`; `path` only names the file in errors.
    public init(parsing text: String, path: String) throws {
        self.path = path
        var entries: [Entry] = []
        var names: [String: Int] = [:]
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = offset + 1
            let content = rawLine.prefix { $0 != "#" }
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard !fields.isEmpty else { continue }
            let here = "\(path):\(line)"
            guard fields.count <= 2 else {
                throw CoordinatorError(
                    .badInput,
                    "\(here): expected an image reference and at most a platform (e.g. `alpine:3.20 linux/arm64`), found \(fields.count) fields: \(fields.joined(separator: " "))")
            }
            let reference: ImageReference
            do {
                reference = try ImageReference(parsing: fields[0])
            } catch let error as OCIError {
                throw CoordinatorError(.badInput, "\(here): \(error.message)")
            }
            var platform: Platform?
            if fields.count == 2 {
                do {
                    platform = try Platform(parsing: fields[1])
                } catch let error as OCIError {
                    throw CoordinatorError(.badInput, "\(here): \(error.message) (the second field is the platform, os/arch[/variant])")
                }
            }
            let name = Self.bundleName(reference)
            if let earlier = names[name] {
                throw CoordinatorError(
                    .badInput,
                    "\(here): \(fields[0]) names the same image as line \(earlier) (\(name)); a bundle holds each name once, for one platform")
            }
            names[name] = line
            entries.append(Entry(line: line, text: fields[0], reference: reference, platform: platform))
        }
        guard !entries.isEmpty else {
            throw CoordinatorError(.badInput, "\(path) lists no images; write one reference per line, e.g. `alpine:3.20` or `alpine:3.20 linux/arm64`")
        }
        self.entries = entries
    }

    /// What identifies an image in a bundle: its name and tag (with the digest when pinned).
    static func bundleName(_ reference: ImageReference) -> String {
        reference.digest == nil ? reference.description : reference.name + (reference.digest.map { "@" + $0.string } ?? "")
    }
}
