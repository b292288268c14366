import Agreement
import Crypto
import Foundation

/// Checks an artifact in hand against the report that says how it was verified: the file's SHA-256,
/// and for docker-archive, OCI layout and oci-archive outputs, that every blob inside matches its
/// digest and that the image the output names is the one the vantages agreed on.
public enum ArtifactVerifier {
    static let imageFormats: Set<String> = ["docker-archive", "oci", "oci-archive"]
    /// Blobs up to this size are kept while scanning an archive, so manifests can be read after it.
    static let keptBlobLimit: Int64 = 4 << 20
    static let keptTotalLimit: Int64 = 64 << 20

    public static func check(_ path: String, against report: AgreementReport) -> VerificationResult {
        var result = VerificationResult()
        guard let artifact = report.artifact else {
            result.failed.append("the report records no written artifact (verdict \(report.verdict.rawValue)), so \(path) cannot be checked against it")
            return result
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            result.failed.append("\(path) does not exist")
            return result
        }
        let contents: Contents
        do {
            if isDirectory.boolValue {
                contents = try Contents(layoutDirectory: path)
            } else if imageFormats.contains(artifact.format) {
                contents = try Contents(archive: path)
            } else {
                contents = try Contents(plainFile: path)
            }
        } catch {
            result.failed.append("cannot read \(path): \(error)")
            return result
        }

        let what = isDirectory.boolValue ? "the SHA-256 of \(path)/index.json" : "the SHA-256 of \(path)"
        if contents.sha256 == artifact.sha256 {
            result.passed.append("\(what) is the one the report records (\(artifact.sha256))")
        } else {
            result.failed.append("\(what) is \(contents.sha256), the report records \(artifact.sha256): this is not the artifact that was verified, or it was changed")
        }

        switch report.agreed {
        case .file(let file)?:
            check("sha256:" + contents.sha256, equals: file.sha256, what: "the file's digest", into: &result)
        case .bottle(let bottle)?:
            check("sha256:" + contents.sha256, equals: bottle.layerDigest, what: "the bottle's digest", into: &result)
        case .image(let image)?:
            guard contents.isImageOutput else {
                result.notes.append("\(path) is not an image layout or archive, so its contents were not checked against the agreed image")
                break
            }
            checkImage(contents, image: image, artifact: artifact, into: &result)
        case nil:
            result.failed.append("the report records no agreed digests to check \(path) against")
        }
        return result
    }

    private static func check(_ actual: String, equals expected: String, what: String, into result: inout VerificationResult) {
        if actual == expected {
            result.passed.append("\(what) is the agreed \(expected)")
        } else {
            result.failed.append("\(what) is \(actual), not the agreed \(expected)")
        }
    }

    private struct IndexFile: Decodable {
        struct Entry: Decodable { var digest: String }
        var manifests: [Entry]
    }

    private struct ManifestFile: Decodable {
        struct Entry: Decodable {
            var digest: String
            var size: Int64
        }
        var config: Entry
        var layers: [Entry]
    }

    private struct DockerManifestEntry: Decodable {
        var Config: String
        var Layers: [String]
    }

    private static func checkImage(_ contents: Contents, image: ObservedImage, artifact: AgreementReport.Artifact, into result: inout VerificationResult) {
        let mismatched = contents.blobs.filter { $0.value.computed != $0.key }.keys.sorted()
        if mismatched.isEmpty {
            result.passed.append("all \(contents.blobs.count) blobs match their digests")
        } else {
            for name in mismatched.prefix(10) {
                result.failed.append("blob \(name) does not match its digest: its bytes hash to \(contents.blobs[name]?.computed ?? "?")")
            }
            if mismatched.count > 10 { result.failed.append("… and \(mismatched.count - 10) more blobs that do not match their digests") }
        }
        result.failed += contents.problems

        let agreedManifest = image.platformManifestDigest ?? image.topDigest
        var acceptable = [agreedManifest]
        if let written = artifact.manifestDigest, written != agreedManifest {
            if artifact.convertedFrom == agreedManifest {
                acceptable.append(written)
            } else {
                result.failed.append("the report's artifact.manifestDigest \(written) is neither the agreed manifest \(agreedManifest) nor recorded as its conversion")
            }
        }
        guard let indexData = contents.files["index.json"], let index = try? JSONDecoder().decode(IndexFile.self, from: indexData) else {
            result.failed.append("the output has no readable index.json, so which image it holds cannot be checked")
            return
        }
        guard let manifestDigest = index.manifests.map(\.digest).first(where: acceptable.contains) else {
            result.failed.append(
                "index.json does not point at the agreed manifest \(agreedManifest) (it lists \(index.manifests.map(\.digest).joined(separator: ", ")))")
            return
        }
        let conversion = manifestDigest == agreedManifest ? "" : " (the OCI conversion of the agreed Docker manifest \(agreedManifest))"
        guard let manifestData = contents.files[memberPath(manifestDigest)] else {
            result.failed.append("the manifest \(manifestDigest) named by index.json is missing from the output")
            return
        }
        guard let manifest = try? JSONDecoder().decode(ManifestFile.self, from: manifestData) else {
            result.failed.append("the manifest \(manifestDigest) in the output is not an image manifest")
            return
        }
        var manifestProblems: [String] = []
        if manifest.config.digest != image.configDigest {
            manifestProblems.append("its config is \(manifest.config.digest), the agreed config is \(image.configDigest)")
        }
        let layers = manifest.layers.map { "\($0.digest) (\($0.size) bytes)" }
        let agreedLayers = image.layers.map { "\($0.digest) (\($0.size) bytes)" }
        if layers != agreedLayers {
            manifestProblems.append("its layers are [\(layers.joined(separator: ", "))], the agreed layers are [\(agreedLayers.joined(separator: ", "))]")
        }
        for entry in [manifest.config] + manifest.layers {
            guard let blob = contents.blobs[entry.digest] else {
                manifestProblems.append("blob \(entry.digest) is missing from the output")
                continue
            }
            if blob.size != entry.size { manifestProblems.append("blob \(entry.digest) has \(blob.size) bytes, the manifest says \(entry.size)") }
        }
        if manifestProblems.isEmpty {
            result.passed.append("index.json names the agreed manifest \(manifestDigest)\(conversion), with the agreed config and \(image.layers.count) layers, all present")
        } else {
            result.failed += manifestProblems.map { "the manifest \(manifestDigest) in the output: \($0)" }
        }

        if artifact.format == "docker-archive" {
            guard let data = contents.files["manifest.json"], let entries = try? JSONDecoder().decode([DockerManifestEntry].self, from: data) else {
                result.failed.append("the docker-archive has no readable manifest.json, which `docker load` reads")
                return
            }
            let config = memberPath(image.configDigest)
            let layerPaths = image.layers.map { memberPath($0.digest) }
            if entries.contains(where: { $0.Config == config && $0.Layers == layerPaths }) {
                result.passed.append("manifest.json (what `docker load` reads) names the agreed config and layers")
            } else {
                result.failed.append("manifest.json (what `docker load` reads) does not name the agreed config \(image.configDigest) and layers in order")
            }
        }
    }

    /// `blobs/<algorithm>/<hex>` for `algorithm:hex`.
    static func memberPath(_ digest: String) -> String {
        "blobs/" + digest.replacingOccurrences(of: ":", with: "/")
    }

    /// What an output holds, read once: its SHA-256, every blob's computed digest and size, and
    /// the small files needed to follow index.json to the image.
    struct Contents {
        struct Blob {
            var computed: String
            var size: Int64
        }

        var sha256 = ""
        /// Digest named by the member path (`sha256:<hex>`) → what the bytes hash to.
        var blobs: [String: Blob] = [:]
        /// index.json, manifest.json, oci-layout, and blobs small enough to keep.
        var files: [String: Data] = [:]
        var problems: [String] = []
        var isImageOutput: Bool { files["index.json"] != nil || files["manifest.json"] != nil }

        init(plainFile path: String) throws {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw ReportError("cannot open \(path) for reading") }
            defer { try? handle.close() }
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
            sha256 = hex(hasher.finalize())
        }

        init(archive path: String) throws {
            var whole = SHA256()
            let reader = try TarReader(path: path) { whole.update(data: $0) }
            var kept: Int64 = 0
            var scanned = Contents(files: [:])
            try reader.forEachMember { member, next in
                guard member.isRegularFile else { return }
                if member.name.hasPrefix("/") || member.name.split(separator: "/").contains("..") {
                    scanned.problems.append("the archive has a member with an unsafe path: \(member.name)")
                    return
                }
                let blobName = Contents.blobDigest(memberName: member.name)
                let keep = blobName == nil ? member.size <= keptBlobLimit : member.size <= keptBlobLimit && kept + member.size <= keptTotalLimit
                var hasher = StreamingDigest(algorithm: blobName?.algorithm ?? "sha256")
                var data = Data()
                while let chunk = try next() {
                    hasher.update(chunk)
                    if keep { data.append(chunk) }
                }
                if keep {
                    scanned.files[member.name] = data
                    if blobName != nil { kept += member.size }
                }
                if let blobName {
                    scanned.blobs[blobName.digest] = Blob(computed: "\(blobName.algorithm):\(hasher.finalizeHex())", size: member.size)
                }
            }
            self = scanned
            sha256 = hex(whole.finalize())
        }

        init(layoutDirectory path: String) throws {
            for name in ["index.json", "manifest.json", "oci-layout"] {
                if let data = FileManager.default.contents(atPath: "\(path)/\(name)") { files[name] = data }
            }
            guard let index = files["index.json"] else {
                throw ReportError("\(path) is a directory without index.json, so it is not an OCI layout")
            }
            sha256 = hex(SHA256.hash(data: index))
            let blobRoot = "\(path)/blobs"
            for algorithm in (try? FileManager.default.contentsOfDirectory(atPath: blobRoot)) ?? [] {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(blobRoot)/\(algorithm)")) ?? [] {
                    let member = "blobs/\(algorithm)/\(name)"
                    guard let blob = Contents.blobDigest(memberName: member) else {
                        problems.append("\(member) is not named after a digest")
                        continue
                    }
                    guard let handle = FileHandle(forReadingAtPath: "\(path)/\(member)") else {
                        problems.append("cannot read \(member)")
                        continue
                    }
                    defer { try? handle.close() }
                    var hasher = StreamingDigest(algorithm: blob.algorithm)
                    var size: Int64 = 0
                    var data = Data()
                    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                        hasher.update(chunk)
                        size += Int64(chunk.count)
                        if size <= keptBlobLimit { data.append(chunk) }
                    }
                    if size <= keptBlobLimit { files[member] = data }
                    blobs[blob.digest] = Blob(computed: "\(blob.algorithm):\(hasher.finalizeHex())", size: size)
                }
            }
        }

        private init(files: [String: Data]) {
            self.files = files
        }

        /// `blobs/sha256/<64 hex>` → ("sha256", "sha256:<hex>"); nil for any other name.
        static func blobDigest(memberName: String) -> (algorithm: String, digest: String)? {
            let parts = memberName.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "blobs" else { return nil }
            let algorithm = String(parts[1])
            let length = algorithm == "sha256" ? 64 : algorithm == "sha512" ? 128 : 0
            guard length > 0, parts[2].count == length, parts[2].allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
            return (algorithm, "\(algorithm):\(parts[2])")
        }
    }

    /// SHA-256 or SHA-512, fed in chunks.
    struct StreamingDigest {
        private var sha256: SHA256?
        private var sha512: SHA512?

        init(algorithm: String) {
            if algorithm == "sha512" { sha512 = SHA512() } else { sha256 = SHA256() }
        }

        mutating func update(_ data: Data) {
            sha256?.update(data: data)
            sha512?.update(data: data)
        }

        func finalizeHex() -> String {
            if let sha512 { return hex(sha512.finalize()) }
            return hex(sha256?.finalize() ?? SHA256().finalize())
        }
    }
}

private func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
    bytes.map { String(format: "%02x", $0) }.joined()
}
