@testable import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

/// Outputs committed through a `CommitJournal` can be taken back until the run keeps them:
/// `undo()` leaves every path exactly as it was (a replaced file, an empty directory, an OCI
/// layout an image was added to), `keep()` leaves the new outputs and no hidden sibling.
@Suite struct CommitJournalTests {
    /// Every file under `path` (relative) with its bytes; `[:]` for an empty directory.
    static func snapshot(_ path: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for entry in FileManager.default.subpaths(atPath: path) ?? [] {
            if let data = FileManager.default.contents(atPath: path + "/" + entry), !FileSystem.isDirectory(path + "/" + entry) {
                files[entry] = data
            }
        }
        return files
    }

    static func hiddenSiblings(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains("3tofu-tmp") }
    }

    @Test(arguments: [OutputFormat.dockerArchive, .ociArchive])
    func anArchiveThatReplacedAFileIsTakenBackOrKept(format: OutputFormat) throws {
        let sample = try SampleImage()
        let image = try sample.image()
        let output = sample.directory.file("out-\(format.rawValue).tar")
        let older = Data("an older archive\n".utf8)
        try older.write(to: URL(fileURLWithPath: output))

        let undone = CommitJournal()
        _ = try ArtifactWriter.stage(image, format: format, to: output, store: sample.store).commit(journal: undone)
        #expect(FileManager.default.contents(atPath: output) != older)
        undone.undo()
        #expect(FileManager.default.contents(atPath: output) == older)
        #expect(Self.hiddenSiblings(in: sample.directory.path).isEmpty)
        // Once undone, the journal lets nothing else into place.
        #expect(throws: ArtifactsError.self) {
            try ArtifactWriter.stage(image, format: format, to: output, store: sample.store).commit(journal: undone)
        }
        #expect(FileManager.default.contents(atPath: output) == older)
        #expect(Self.hiddenSiblings(in: sample.directory.path).isEmpty)

        let kept = CommitJournal()
        let written = try ArtifactWriter.stage(image, format: format, to: output, store: sample.store).commit(journal: kept)
        kept.keep()
        #expect(try Shell.sha256Hex(try Data(contentsOf: URL(fileURLWithPath: output))) == written.sha256)
        #expect(Self.hiddenSiblings(in: sample.directory.path).isEmpty)
    }

    @Test func aNewFileIsRemovedByUndo() throws {
        let sample = try SampleImage()
        let output = sample.directory.file("new.tar")
        let journal = CommitJournal()
        _ = try ArtifactWriter.stage(try sample.image(), format: .dockerArchive, to: output, store: sample.store).commit(journal: journal)
        #expect(FileManager.default.fileExists(atPath: output))
        journal.undo()
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(Self.hiddenSiblings(in: sample.directory.path).isEmpty)
    }

    @Test func aNewLayoutInAnEmptyDirectoryIsTakenBack() throws {
        let sample = try SampleImage()
        let layout = sample.directory.file("layout")
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: false)
        let journal = CommitJournal()
        _ = try ArtifactWriter.stage(try sample.image(), format: .oci, to: layout, store: sample.store).commit(journal: journal)
        #expect(FileManager.default.fileExists(atPath: layout + "/index.json"))
        journal.undo()
        #expect(FileSystem.isDirectoryNoFollow(layout))
        #expect(Self.snapshot(layout).isEmpty)
        #expect(Self.hiddenSiblings(in: sample.directory.path).isEmpty)
    }

    @Test func anImageAddedToALayoutIsTakenBack() throws {
        let sample = try SampleImage()
        let layout = sample.directory.file("layout")
        try ArtifactWriter.write(try sample.image(), format: .oci, to: layout, store: sample.store)
        let before = Self.snapshot(layout)
        // A Docker manifest is written converted: a blob the layout does not hold yet, and a new index.json.
        let journal = CommitJournal()
        _ = try ArtifactWriter.stage(try sample.image(docker: true, name: "127.0.0.1:5000/a/other:2"), format: .oci, to: layout, store: sample.store)
            .commit(journal: journal)
        #expect(Self.snapshot(layout) != before)
        journal.undo()
        #expect(Self.snapshot(layout) == before)
        #expect(Self.hiddenSiblings(in: layout).isEmpty)
        #expect(Self.hiddenSiblings(in: layout + "/blobs/sha256").isEmpty)
    }

    /// A report alone does not make the run's journal hold an artifact (a refused run keeps its
    /// report); the artifact's commit does.
    @Test func onlyAnArtifactMakesTheJournalHoldOne() throws {
        let sample = try SampleImage()
        let journal = CommitJournal()
        let report = sample.directory.file("report.json")
        let temporary = sample.directory.file(".report.json.tmp")
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: temporary))
        try journal.replace(temporary, at: report)
        #expect(!journal.holdsArtifact)
        _ = try ArtifactWriter.stage(try sample.image(), format: .dockerArchive, to: sample.directory.file("a.tar"), store: sample.store)
            .commit(journal: journal)
        #expect(journal.holdsArtifact)
        journal.undo()
        #expect(!FileManager.default.fileExists(atPath: report))
        #expect(!FileManager.default.fileExists(atPath: sample.directory.file("a.tar")))
    }
}
