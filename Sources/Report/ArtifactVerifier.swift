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
        // Opened without blocking and checked on the descriptor: a FIFO, device or socket is
        // refused at once, and the file read is the one checked, whatever the path names later.
        let opened: BoundedFile.Opened
        do {
            opened = try BoundedFile.openChecked(path, what: "the artifact", allowDirectory: true)
        } catch let error as ReportError {
            result.failed.append(error.message)
            return result
        } catch {
            result.failed.append("cannot open \(path): \(error)")
            return result
        }
        let isDirectory = opened.isDirectory
        let contents: Contents
        do {
            if isDirectory {
                contents = try Contents(layoutDirectory: path, fd: opened.fd)
            } else if imageFormats.contains(artifact.format) {
                contents = try Contents(archive: path, fd: opened.fd)
            } else {
                contents = try Contents(plainFile: path, fd: opened.fd)
            }
        } catch let error as ReportError {
            result.failed.append("cannot read \(path): \(error.message)")
            return result
        } catch {
            result.failed.append("cannot read \(path): \(error)")
            return result
        }

        let what = isDirectory ? "the SHA-256 of \(path)/index.json" : "the SHA-256 of \(path)"
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

        /// Small files read from an output whatever their place: what index.json leads to starts there.
        static let namedFiles: Set<String> = ["index.json", "manifest.json", "oci-layout"]

        /// Hashes the regular file open at `fd` (closed here).
        init(plainFile path: String, fd: Int32) throws {
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var hasher = SHA256()
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
            sha256 = hex(hasher.finalize())
        }

        /// Reads the tar open at `fd` (closed here) once: the whole file's SHA-256, every blob's
        /// digest, and the named files and small JSON blobs, within `keptTotalLimit` in all.
        init(archive path: String, fd: Int32) throws {
            var whole = SHA256()
            let reader = TarReader(fileDescriptor: fd, path: path) { whole.update(data: $0) }
            var kept: Int64 = 0
            var scanned = Contents(files: [:])
            try reader.forEachMember { member, next in
                guard member.isRegularFile else {
                    // 3tofu writes files and directories only; a link or device member could make
                    // `docker load` read something this check never saw.
                    if !member.isDirectory {
                        scanned.problems.append("the archive's member \(member.name) is \(member.kindName); 3tofu writes only files and directories")
                    }
                    return
                }
                if member.name.hasPrefix("/") || member.name.split(separator: "/").contains("..") {
                    scanned.problems.append("the archive has a member with an unsafe path: \(member.name)")
                    return
                }
                let blobName = Contents.blobDigest(memberName: member.name)
                let named = Contents.namedFiles.contains(member.name)
                let keep = member.size <= keptBlobLimit && (named || (blobName != nil && kept + member.size <= keptTotalLimit))
                var hasher = StreamingDigest(algorithm: blobName?.algorithm ?? "sha256")
                var data = Data()
                while let chunk = try next() {
                    hasher.update(chunk)
                    if keep { data.append(chunk) }
                }
                if keep {
                    scanned.files[member.name] = data
                    if !named { kept += member.size }
                }
                if let blobName {
                    scanned.blobs[blobName.digest] = Blob(computed: "\(blobName.algorithm):\(hasher.finalizeHex())", size: member.size)
                }
            }
            self = scanned
            sha256 = hex(whole.finalize())
        }

        /// Reads the OCI layout whose directory is open at `fd` (closed here). Every file is opened
        /// relative to the directory without following symbolic links and must be a regular file:
        /// a link (out of the layout or not), FIFO or device is a problem, never read.
        init(layoutDirectory path: String, fd: Int32) throws {
            defer { close(fd) }
            for name in Contents.namedFiles {
                var info = stat()
                guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                do {
                    let opened = try BoundedFile.openChecked("\(path)/\(name)", what: "the layout's", followLinks: false, relativeTo: (fd, name))
                    defer { close(opened.fd) }
                    files[name] = try BoundedFile.readAll(opened.fd, path: "\(path)/\(name)", what: "the layout's", limit: Int(keptBlobLimit))
                } catch let error as ReportError {
                    problems.append(error.message)
                }
            }
            guard let index = files["index.json"] else {
                throw ReportError(problems.first ?? "\(path) is a directory without index.json, so it is not an OCI layout")
            }
            sha256 = hex(SHA256.hash(data: index))
            var kept: Int64 = 0
            let blobRoot = openat(fd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard blobRoot >= 0 else {
                if errno != ENOENT { problems.append("cannot open \(path)/blobs as a directory (\(String(cString: strerror(errno)))); a symbolic link is not followed") }
                return
            }
            defer { close(blobRoot) }
            for algorithm in Contents.entries(of: blobRoot).sorted() {
                let algorithmDirectory = openat(blobRoot, algorithm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard algorithmDirectory >= 0 else {
                    problems.append("blobs/\(algorithm) is not a directory of blobs (\(String(cString: strerror(errno)))); a symbolic link is not followed")
                    continue
                }
                defer { close(algorithmDirectory) }
                for name in Contents.entries(of: algorithmDirectory).sorted() {
                    let member = "blobs/\(algorithm)/\(name)"
                    guard let blob = Contents.blobDigest(memberName: member) else {
                        problems.append("\(member) is not named after a digest")
                        continue
                    }
                    let opened: BoundedFile.Opened
                    do {
                        opened = try BoundedFile.openChecked(
                            "\(path)/\(member)", what: "the blob", followLinks: false, relativeTo: (algorithmDirectory, name))
                    } catch let error as ReportError {
                        problems.append(error.message)
                        continue
                    }
                    let handle = FileHandle(fileDescriptor: opened.fd, closeOnDealloc: true)
                    var hasher = StreamingDigest(algorithm: blob.algorithm)
                    var size: Int64 = 0
                    // Only small JSON is kept (manifests and configs); layers are hashed and dropped.
                    let keep = opened.size <= keptBlobLimit && kept + opened.size <= keptTotalLimit
                    var data = Data()
                    while size < opened.size, let chunk = try handle.read(upToCount: Int(min(1 << 20, opened.size - size))), !chunk.isEmpty {
                        hasher.update(chunk)
                        size += Int64(chunk.count)
                        if keep { data.append(chunk) }
                    }
                    if keep, data.first == UInt8(ascii: "{") {
                        files[member] = data
                        kept += size
                    }
                    blobs[blob.digest] = Blob(computed: "\(blob.algorithm):\(hasher.finalizeHex())", size: size)
                }
            }
        }

        /// The names in the directory open at `fd`, less `.` and `..`.
        static func entries(of fd: Int32) -> [String] {
            let copy = dup(fd)
            guard copy >= 0, let directory = fdopendir(copy) else {
                if copy >= 0 { close(copy) }
                return []
            }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafePointer(to: &entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
                }
                if name != ".", name != ".." { names.append(name) }
            }
            return names
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
