import Foundation

/// A manifest body as a registry returned it: either a single-platform manifest or an index.
/// Decoding only reads the bytes; callers keep the raw bytes (their digest is what counts).
public enum ManifestDocument: Sendable, Equatable {
    case manifest(ImageManifest)
    case index(ImageIndex)

    /// The `mediaType` the body declares, if any.
    public var mediaType: String? {
        switch self {
        case .manifest(let manifest): manifest.mediaType
        case .index(let index): index.mediaType
        }
    }

    /// Everything the document points at: config and layers, or the index entries.
    public var referencedDescriptors: [Descriptor] {
        switch self {
        case .manifest(let manifest): [manifest.config] + manifest.layers
        case .index(let index): index.manifests
        }
    }

    private enum Kind: Equatable {
        case manifest, index

        var name: String {
            switch self {
            case .manifest: "an image manifest"
            case .index: "an image index"
            }
        }
    }

    /// Decides what the body is and decodes it.
    ///
    /// The kind comes from the body's `mediaType`, else from `contentType`, else from the
    /// structure (`manifests` versus `config`/`layers`). `origin` (e.g. the reference) only
    /// makes messages clearer.
    public static func decode(_ bytes: Data, contentType: String?, origin: String? = nil) throws -> ManifestDocument {
        let subject = origin.map { "the manifest for \($0)" } ?? "the manifest"
        let schema1Advice = "Docker schema 1 manifests are not supported (their digest does not pin the image content); "
            + "pull by digest of a v2/OCI manifest (`REF@sha256:…`) or ask the publisher to push the image again with a current client"

        guard let first = bytes.first(where: { !isJSONWhitespace($0) }) else {
            throw OCIError(
                .notJSON,
                "\(subject) is empty (\(bytes.count) bytes of whitespace or nothing) where a JSON manifest was expected; "
                    + "the registry or a proxy on this route answered without content. Check the route and try again"
            )
        }
        guard first == UInt8(ascii: "{") else {
            throw notJSON(subject, bytes, why: "is not JSON")
        }

        if let problem = JSONKeyCheck.firstProblem(in: bytes) {
            switch problem.kind {
            case .duplicateKey(let key):
                throw OCIError(
                    .invalidManifest,
                    "\(subject) repeats the key \(quoted(key)) in one object (byte \(problem.offset)); JSON parsers disagree on which copy counts, "
                        + "so the same digest could name different images. Refusing it; the registry or this route serves a malformed or crafted document"
                )
            case .caseVariantKey(let key, let earlier):
                throw OCIError(
                    .invalidManifest,
                    "\(subject) has both the keys \(quoted(earlier)) and \(quoted(key)) in one object (byte \(problem.offset)); they differ only by case, "
                        + "and Go's JSON decoder (skopeo, Docker, containerd, the registry) reads either as the same field, so the same digest could "
                        + "name different images. Refusing it; the registry or this route serves a malformed or crafted document"
                )
            case .tooDeep:
                throw OCIError(
                    .invalidManifest,
                    "\(subject) nests objects or arrays more than \(JSONKeyCheck.maximumDepth) levels deep (byte \(problem.offset)); "
                        + "no manifest needs that. Refusing it as malformed or crafted"
                )
            }
        }

        let probe: Probe
        do {
            probe = try JSONDecoder().decode(Probe.self, from: bytes)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw notJSON(subject, bytes, why: "starts like JSON but does not parse (truncated or corrupted)")
            }
            throw OCIError(.invalidManifest, "\(subject) is not a valid manifest: \(describe(error))")
        }

        if probe.schemaVersion == 1 || probe.mediaType.map(MediaType.isSchema1) == true {
            throw OCIError(.schema1Unsupported, "\(subject) is a Docker schema 1 manifest. " + schema1Advice)
        }
        guard let version = probe.schemaVersion else {
            throw OCIError(.invalidManifest, "\(subject) has no schemaVersion; a v2/OCI manifest or index has \"schemaVersion\": 2")
        }
        guard version == 2 else {
            throw OCIError(.invalidManifest, "\(subject) has schemaVersion \(version); only 2 (Docker v2 and OCI) is supported")
        }

        var bodyKind: Kind?
        if let declared = probe.mediaType {
            if MediaType.isIndex(declared) {
                bodyKind = .index
            } else if MediaType.isManifest(declared) {
                bodyKind = .manifest
            } else {
                throw OCIError(
                    .unsupportedMediaType,
                    "\(subject) declares mediaType \(quoted(declared)), which is neither an image manifest nor an image index; "
                        + "supported are \(MediaType.manifestAcceptTypes.joined(separator: ", ")). Check that the reference names a container image"
                )
            }
        }

        let header = contentType.map(MediaType.essence).flatMap { $0.isEmpty ? nil : $0 }
        var headerKind: Kind?
        if let header {
            if MediaType.isIndex(header) {
                headerKind = .index
            } else if MediaType.isManifest(header) {
                headerKind = .manifest
            } else if MediaType.isSchema1(header) {
                throw OCIError(
                    .invalidManifest,
                    "\(subject) is a schemaVersion 2 body but the server labelled it \(quoted(header)) (schema 1); the response is inconsistent, refusing it"
                )
            }
        }
        if let bodyKind, let headerKind, bodyKind != headerKind, let header, let declared = probe.mediaType {
            throw OCIError(
                .invalidManifest,
                "\(subject) declares mediaType \(quoted(declared)) (\(bodyKind.name)) but the server's Content-Type is \(quoted(header)) "
                    + "(\(headerKind.name)); the response is inconsistent, refusing it"
            )
        }

        var structuralKind: Kind?
        if probe.hasManifests, !probe.hasConfig, !probe.hasLayers {
            structuralKind = .index
        } else if !probe.hasManifests, probe.hasConfig || probe.hasLayers {
            structuralKind = .manifest
        }
        guard let kind = bodyKind ?? headerKind ?? structuralKind else {
            throw OCIError(
                .invalidManifest,
                "cannot tell whether \(subject) is a manifest or an index: it declares no mediaType, the Content-Type "
                    + "(\(header.map { quoted($0) } ?? "none")) does not say, and its fields are ambiguous (needs either manifests[] or config and layers[])"
            )
        }

        do {
            switch kind {
            case .index: return .index(try JSONDecoder().decode(ImageIndex.self, from: bytes))
            case .manifest: return .manifest(try JSONDecoder().decode(ImageManifest.self, from: bytes))
            }
        } catch let error as DecodingError {
            throw OCIError(.invalidManifest, "\(subject) is not valid as \(kind.name): \(describe(error)); the registry returned a malformed document")
        }
    }

    /// Only the fields that tell what a body is.
    private struct Probe: Decodable {
        var schemaVersion: Int?
        var mediaType: String?
        var hasManifests: Bool
        var hasConfig: Bool
        var hasLayers: Bool

        enum CodingKeys: String, CodingKey {
            case schemaVersion, mediaType, manifests, config, layers
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            schemaVersion = try container.decodeIfPresent(Int.self, forKey: .schemaVersion)
            mediaType = try container.decodeIfPresent(String.self, forKey: .mediaType)
            hasManifests = container.contains(.manifests)
            hasConfig = container.contains(.config)
            hasLayers = container.contains(.layers)
        }
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func notJSON(_ subject: String, _ bytes: Data, why: String) -> OCIError {
        OCIError(
            .notJSON,
            "\(subject) \(why): the body (\(bytes.count) bytes) begins \"\(printablePreview(bytes, limit: 80))\". "
                + "An HTML page usually means a proxy, captive portal or login page on this route, or a wrong registry address; "
                + "check the registry address and the route"
        )
    }

    /// One line saying which field was wrong and how, e.g. `manifests[1].digest: …`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            var text = ""
            for key in codingPath + (last.map { [$0] } ?? []) {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? "the top level" : "`\(text)`"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "required field \(path(context.codingPath, key)) is missing"
        case .typeMismatch(let type, let context):
            return "field \(path(context.codingPath)) has the wrong type (expected \(type))"
        case .valueNotFound(let type, let context):
            return "field \(path(context.codingPath)) is null (expected \(type))"
        case .dataCorrupted(let context):
            return "field \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
