@testable import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// Outputs appear whole or not at all, existing paths are treated as documented, and OCI layouts
/// accumulate images.
@Suite struct WriterSafetyTests {
    @Test(arguments: OutputFormat.allCases)
    func aMissingBlobLeavesNothingBehind(format: OutputFormat) throws {
        let sample = try SampleImage()
        let image = try sample.image()
        // Remove the second layer from the store.
        try FileManager.default.removeItem(atPath: sample.store.path(of: sample.layers[1].digest))
        let outputs = sample.directory.file("outputs")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        let output = "\(outputs)/image"
        let error = #expect(throws: ArtifactsError.self) {
            try ArtifactWriter.write(image, format: format, to: output, store: sample.store)
        }
        #expect(error?.code == .missingBlob)
        #expect(error?.message.contains(sample.layers[1].digest.string) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outputs) == [])
    }

    /// Every writer goes through `AtomicOutput`; a failure after the temporary exists removes it.
    @Test func aFailureMidWriteRemovesTheTemporary() throws {
        let directory = try TemporaryDirectory(prefix: "atomic")
        struct Boom: Error {}
        let file = directory.file("out.tar")
        try Data("previous".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: Boom.self) {
            try AtomicOutput.writeFile(at: file) { fd, temporary in
                #expect(FileManager.default.fileExists(atPath: temporary))
                #expect(FileSystem.baseName(temporary).hasPrefix(".out.tar.3tofu-tmp-"))
                _ = write(fd, "partial", 7)
                throw Boom()
            }
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "previous")
        #expect(throws: Boom.self) {
            try AtomicOutput.writeDirectory(at: directory.file("layout")) { temporary in
                try Data("x".utf8).write(to: URL(fileURLWithPath: "\(temporary)/oci-layout"))
                throw Boom()
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.tar"])
    }

    @Test func wrongManifestBytesAreRefused() throws {
        let sample = try SampleImage()
        var image = try sample.image()
        image.manifestBytes.append(contentsOf: Array(" ".utf8))
        let output = sample.directory.file("image.tar")
        let error = #expect(throws: ArtifactsError.self) { try ArchiveWriter(store: sample.store, format: .dockerArchive).write(image, to: output) }
        #expect(error?.code == .digestMismatch)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test(arguments: [OutputFormat.dockerArchive, .ociArchive])
    func anExistingFileIsReplaced(format: OutputFormat) throws {
        let sample = try SampleImage()
        let output = sample.directory.file("image.tar")
        try Data("old".utf8).write(to: URL(fileURLWithPath: output))
        let result = try ArtifactWriter.write(try sample.image(), format: format, to: output, store: sample.store)
        #expect(try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: output))) == result.sha256)
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test func aNonEmptyDirectoryThatIsNotALayoutIsRefused() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("stuff")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: "\(output)/notes.txt"))
        let error = #expect(throws: ArtifactsError.self) { try OCILayoutWriter(store: sample.store).write(try sample.image(), to: output) }
        #expect(error?.code == .outputExists)
        #expect(try FileManager.default.contentsOfDirectory(atPath: output) == ["notes.txt"])
        #expect(try sample.leftoverTemporaries(in: sample.directory.path).isEmpty)
    }

    @Test func anEmptyDirectoryBecomesALayout() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("empty")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try OCILayoutWriter(store: sample.store).write(try sample.image(), to: output)
        #expect(try Shell.check(["umoci", "ls", "--layout", output]) == "tag\n")
    }

    @Test func anExistingLayoutGetsTheImageAdded() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("layout")
        let writer = OCILayoutWriter(store: sample.store)
        try writer.write(try sample.image(name: "127.0.0.1:5000/a/b:one"), to: output)
        let second = try writer.write(try sample.image(docker: true, name: "127.0.0.1:5000/a/b:two"), to: output)
        // Writing the same tag again replaces it rather than duplicating it.
        try writer.write(try sample.image(docker: true, name: "127.0.0.1:5000/a/b:two"), to: output)
        let tags = try Shell.check(["umoci", "ls", "--layout", output]).split(separator: "\n").map(String.init).sorted()
        #expect(tags == ["one", "two"])
        let inspect = try decodeJSON(SkopeoInspect.self, try Shell.check(["skopeo", "inspect", "oci:\(output):two"]))
        #expect(inspect.Digest == second.manifestDigestWritten.string)
        #expect(try sample.leftoverTemporaries(in: output).isEmpty)
        #expect(try sample.leftoverTemporaries(in: "\(output)/blobs/sha256").isEmpty)
    }

    @Test func layoutBlobsAreHardLinkedFromTheStore() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("layout")
        try OCILayoutWriter(store: sample.store).write(try sample.image(), to: output)
        let layer = sample.layers[0].digest
        let inStore = try FileManager.default.attributesOfItem(atPath: sample.store.path(of: layer))
        let inLayout = try FileManager.default.attributesOfItem(atPath: "\(output)/blobs/sha256/\(layer.encoded)")
        #expect(inStore[.systemFileNumber] as? Int == inLayout[.systemFileNumber] as? Int)
    }

    @Test func indexJSONNamesTheImage() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("layout")
        try OCILayoutWriter(store: sample.store).write(try sample.image(name: "registry-1.docker.io/library/hitch:1.8"), to: output)
        let index = try JSONDecoder().decode(ImageIndex.self, from: Data(contentsOf: URL(fileURLWithPath: "\(output)/index.json")))
        #expect(index.manifests.count == 1)
        #expect(index.manifests.first?.annotations == [
            "org.opencontainers.image.ref.name": "1.8", "io.containerd.image.name": "docker.io/library/hitch:1.8",
        ])
        #expect(index.manifests.first?.platform == Platform(os: "linux", architecture: "amd64"))
        #expect(index.mediaType == MediaType.ociIndex)
    }

    /// A store blob that changed after it was verified (same size, other bytes) never becomes part
    /// of an OCI layout: each blob is hashed after it is linked or copied, also into an existing
    /// layout, and a blob an existing layout already holds is kept only if it verifies.
    @Test(arguments: ["new layout", "existing layout"])
    func anOCILayoutNeverTakesAChangedStoreBlob(target: String) throws {
        let sample = try SampleImage()
        let output = sample.directory.file("layout")
        if target == "existing layout" {
            try OCILayoutWriter(store: sample.store).write(try sample.image(name: "127.0.0.1:5000/a/b:old"), to: output)
        }
        let layer = sample.layers[0]
        let blob = sample.store.path(of: layer.digest)
        chmod(blob, 0o644)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: blob))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: blob))

        let error = #expect(throws: ArtifactsError.self) { try OCILayoutWriter(store: sample.store).write(try sample.image(), to: output) }
        #expect(error?.code == .digestMismatch, "\(String(describing: error))")
        #expect(error?.message.contains(layer.digest.string) == true)
        let written = "\(output)/blobs/sha256/\(layer.digest.encoded)"
        if target == "new layout" {
            #expect(!FileManager.default.fileExists(atPath: output))
        } else {
            // The layout's existing copy (a hard link to the same damaged file) is not vouched for:
            // the new image is not added to the index.
            #expect(FileManager.default.fileExists(atPath: written))
            let index = try String(contentsOfFile: "\(output)/index.json", encoding: .utf8)
            #expect(!index.contains("\"tag\""), "the new tag reached index.json: \(index)")
        }
    }
}
