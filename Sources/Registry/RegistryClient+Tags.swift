import Foundation
import OCI
import Transport

extension RegistryClient {
    /// `registry/repository:tag`, or `registry/repository@sha256:…` for a digest.
    static func shownReference(registry: String, repository: String, reference: String) -> String {
        "\(registry)/\(repository)\(reference.contains(":") ? "@" : ":")\(reference)"
    }

    /// The failure for a tag the registry does not have (its manifest answered 404), naming a few
    /// tags the repository does have (`tags/list`), so that a typo shows. nil for a digest.
    func missingTag(registry: String, repository: String, reference: String) async -> RegistryError? {
        guard !reference.contains(":") else { return nil }
        let shown = Self.shownReference(registry: registry, repository: repository, reference: reference)
        let listed = await tags(registry: registry, repository: repository)
        let hint: String
        switch listed {
        case .some(let tags) where tags.isEmpty:
            hint = "the repository lists no tags at all; check the name"
        case .some(let tags):
            hint = "tags there include " + TagSample.describe(tags) + "; check the tag"
        case .none:
            hint = "check the name and the tag (the repository's tags could not be listed)"
        }
        return RegistryError(.notFound, "the tag '\(reference)' is not there: \(shown) was not found (HTTP 404); \(hint)")
    }

    /// The repository's tags (`GET /v2/<name>/tags/list?n=…`), or nil when they cannot be read.
    func tags(registry: String, repository: String) async -> [String]? {
        let url = baseURL(registry) + "/v2/\(repository)/tags/list?n=\(TagSample.asked)"
        let request = HTTPRequest(url: url, headers: [("Accept", "application/json")], maximumBodyLength: 1 << 20)
        guard let (response, _) = try? await exchange(request, registry: registry, scope: Self.pullScope(repository), into: .memory(limit: 1 << 20), retrying: false),
            response.status == 200
        else { return nil }
        return TagSample.parse(response.body)
    }
}

/// A few of a repository's tags, fit to print (the text comes from the network). Pure.
enum TagSample {
    /// How many tags are asked for; a registry may send fewer.
    static let asked = 100
    static let shown = 8

    private struct TagList: Decodable { var tags: [String]? }

    /// The tags that are well-formed (the distribution spec's tag grammar); nil when the body is not a tag list.
    static func parse(_ body: Data) -> [String]? {
        guard let list = try? JSONDecoder().decode(TagList.self, from: body) else { return nil }
        return (list.tags ?? []).filter(isTag)
    }

    /// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    static func isTag(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.unicodeScalars.count <= 128 else { return false }
        func allowed(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "." || scalar == "-")
        }
        return first != "." && first != "-" && text.unicodeScalars.allSatisfy(allowed)
    }

    /// "1.0, 1.1, latest" or "…, v13, …, v20 (8 of 40 listed)": sorted as versions, the last few.
    static func describe(_ tags: [String]) -> String {
        let sorted = tags.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        let picked = sorted.count > shown ? Array(sorted.suffix(shown)) : sorted
        let list = picked.joined(separator: ", ")
        return tags.count > shown ? "…, \(list) (\(shown) of \(tags.count) listed)" : list
    }
}
