import Artifacts
import Foundation
import OCI
import TestSupport
import Testing

@Suite struct ContentStoreTests {
    static func digest(of data: Data) throws -> Digest {
        try Digest(parsing: "sha256:" + (try Shell.sha256Hex(data)))
    }

    func blobFiles(_ store: ContentStore) -> [String] {
        (FileManager.default.enumerator(atPath: "\(store.root)/blobs")?.allObjects as? [String] ?? [])
            .filter { !$0.hasSuffix("sha256") && !$0.hasSuffix("sha512") }
    }

    @Test(arguments: [
        (["THREETOFU_CACHE": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"], "/c"),
        (["XDG_CACHE_HOME": "/x", "HOME": "/h"], "/x/3tofu"),
        (["THREETOFU_CACHE": "", "XDG_CACHE_HOME": "/x", "HOME": "/h"], "/x/3tofu"),
        (["HOME": "/h"], "/h/.cache/3tofu"),
    ])
    func defaultRoot(environment: [String: String], expected: String) {
        #expect(ContentStore.defaultRoot(environment: environment) == expected)
    }

    @Test func ingestStoresVerifiedBytesAndRefusesWrongOnes() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let good = Data(#"{"architecture":"amd64"}"#.utf8)
        let digest = try Self.digest(of: good)
        let path = try store.ingest(data: good, digest: digest)
        #expect(path == "\(store.root)/blobs/sha256/\(digest.encoded)")
        #expect(store.contains(digest, size: Int64(good.count)))
        #expect(!store.contains(digest, size: Int64(good.count) + 1))
        #expect(try store.read(digest) == good)

        let tampered = Data(#"{"architecture":"arm64"}"#.utf8)
        let otherDigest = try Self.digest(of: Data("something else".utf8))
        let error = #expect(throws: ArtifactsError.self) { try store.ingest(data: tampered, digest: otherDigest) }
        #expect(error?.code == .digestMismatch)
        #expect(!store.contains(otherDigest, size: nil))
        #expect(blobFiles(store) == ["sha256/\(digest.encoded)"])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: "\(store.root)/ingest")) ?? [] == [])
    }

    @Test func sha512DigestsLiveInTheirOwnDirectory() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let data = Data("sha512 blob\n".utf8)
        let hex = try Shell.check(["sha512sum"], stdin: data).split(separator: " ").first.map(String.init) ?? ""
        let digest = try Digest(parsing: "sha512:\(hex)")
        try data.write(to: URL(fileURLWithPath: store.partialPath(for: digest)))
        // A SHA-256 from the downloader cannot vouch for a sha512 digest: the store hashes it itself.
        let path = try store.commit(partialFor: digest, verifiedSHA256: String(repeating: "0", count: 64), size: Int64(data.count))
        #expect(path.hasSuffix("/blobs/sha512/\(hex)"))
        #expect(try store.read(digest) == data)
    }

    @Test func commitTrustsTheDownloadersHashOnlyWhenItMatches() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let data = Data(repeating: 7, count: 5000)
        let digest = try Self.digest(of: data)
        let partial = store.partialPath(for: digest)
        #expect(partial == "\(store.root)/ingest/\(digest.encoded).partial")

        try data.write(to: URL(fileURLWithPath: partial))
        let wrongHash = #expect(throws: ArtifactsError.self) {
            try store.commit(partialFor: digest, verifiedSHA256: String(repeating: "a", count: 64), size: 5000)
        }
        #expect(wrongHash?.code == .digestMismatch)
        #expect(wrongHash?.message.contains(digest.encoded) == true)
        #expect(!FileManager.default.fileExists(atPath: partial))
        #expect(blobFiles(store).isEmpty)

        try data.write(to: URL(fileURLWithPath: partial))
        let wrongSize = #expect(throws: ArtifactsError.self) {
            try store.commit(partialFor: digest, verifiedSHA256: digest.encoded, size: 4999)
        }
        #expect(wrongSize?.code == .sizeMismatch)
        #expect(blobFiles(store).isEmpty)

        try data.write(to: URL(fileURLWithPath: partial))
        #expect(store.partialLength(for: digest) == 5000)
        try store.commit(partialFor: digest, verifiedSHA256: digest.encoded, size: 5000)
        #expect(store.contains(digest, size: 5000))
        #expect(store.partialLength(for: digest) == 0)
    }

    @Test func resumedPartialIsHashedBeforeCommit() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        // Bigger than the 1 MiB hashing chunk, so several reads are needed.
        let data = Data((0..<(3 << 20) + 123).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        let digest = try Self.digest(of: data)
        let partial = store.partialPath(for: digest)

        // A previous run left the first part; this run appends the rest.
        try data.prefix(1_000_000).write(to: URL(fileURLWithPath: partial))
        #expect(store.partialLength(for: digest) == 1_000_000)
        let handle = try #require(FileHandle(forWritingAtPath: partial))
        try handle.seekToEnd()
        try handle.write(contentsOf: data.dropFirst(1_000_000))
        try handle.close()
        try store.verifyAndCommitPartial(for: digest, expectedSize: Int64(data.count))
        #expect(store.contains(digest, size: Int64(data.count)))

        // A prefix from a tampered earlier run does not get in.
        let other = Data(data.reversed())
        let otherDigest = try Self.digest(of: other)
        var corrupted = other
        corrupted[10] ^= 0xff
        try corrupted.write(to: URL(fileURLWithPath: store.partialPath(for: otherDigest)))
        let error = #expect(throws: ArtifactsError.self) {
            try store.verifyAndCommitPartial(for: otherDigest, expectedSize: Int64(other.count))
        }
        #expect(error?.code == .digestMismatch)
        #expect(!store.contains(otherDigest, size: nil))
        #expect(store.partialLength(for: otherDigest) == 0)
    }

    @Test func readRefusesBigBlobsAndDeletesDamagedOnes() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let data = Data(repeating: 1, count: 2048)
        let digest = try Self.digest(of: data)
        try store.ingest(data: data, digest: digest)
        let tooBig = #expect(throws: ArtifactsError.self) { try store.read(digest, limit: 1024) }
        #expect(tooBig?.code == .blobTooLarge)

        let path = store.path(of: digest)
        chmod(path, 0o644)
        try Data(repeating: 2, count: 2048).write(to: URL(fileURLWithPath: path))
        let damaged = #expect(throws: ArtifactsError.self) { try store.read(digest) }
        #expect(damaged?.code == .digestMismatch)
        #expect(!store.contains(digest, size: nil))

        let missing = #expect(throws: ArtifactsError.self) { try store.read(digest) }
        #expect(missing?.code == .missingBlob)
    }

    /// One holder per blob across processes and tasks (flock on ingest/<hex>.lock); released on
    /// `release()` and when the holder goes away.
    @Test func aBlobLockHasOneHolderAtATime() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let digest = try Self.digest(of: Data("locked".utf8))
        let other = try Self.digest(of: Data("other".utf8))
        let held = try #require(try store.tryLockBlob(digest))
        #expect(try store.tryLockBlob(digest) == nil)
        #expect(try store.tryLockBlob(other) != nil)
        // Another process sees it held too (flock(1) with -n fails at once).
        #expect(try Shell.run(["flock", "-n", "\(store.root)/ingest/\(digest.encoded).lock", "true"]).status != 0)
        held.release()
        #expect(try Shell.run(["flock", "-n", "\(store.root)/ingest/\(digest.encoded).lock", "true"]).status == 0)
        #expect(try store.tryLockBlob(digest) != nil)
    }

    /// Who holds a blob's lock, for the progress display: a task of this process (another route
    /// of the same run) or another process (another run sharing the cache).
    @Test func aBlobLockHolderIsToldApart() throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let digest = try Self.digest(of: Data("held here".utf8))
        #expect(!store.blobLockIsHeldHere(digest))
        let held = try #require(try store.tryLockBlob(digest))
        #expect(store.blobLockIsHeldHere(digest))
        held.release()
        #expect(!store.blobLockIsHeldHere(digest))

        // Another process holds it (flock(1) says "held" once it has it, and keeps it until its stdin ends).
        let other = try FlockHolder(path: "\(store.root)/ingest/\(digest.encoded).lock")
        defer { other.release() }
        #expect(other.said == "held\n")
        #expect(try store.tryLockBlob(digest) == nil)
        #expect(!store.blobLockIsHeldHere(digest), "held by another process, not this one")
    }

    /// A blob in blobs/ is never replaced by another file: a second commit of the same digest
    /// keeps the first file (same inode) when it verifies, and replaces what does not verify
    /// (damaged bytes, or a link planted at its name).
    @Test(arguments: ["verified", "damaged", "link"])
    func commitNeverReplacesAVerifiedBlob(existing: String) throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let data = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        let digest = try Self.digest(of: data)
        try store.ingest(data: data, digest: digest)
        let blob = store.path(of: digest)
        switch existing {
        case "damaged":
            chmod(blob, 0o644)
            var bytes = data
            bytes[5] ^= 1
            try bytes.write(to: URL(fileURLWithPath: blob))
        case "link":
            unlink(blob)
            try data.write(to: URL(fileURLWithPath: directory.file("elsewhere")))
            try FileManager.default.createSymbolicLink(atPath: blob, withDestinationPath: directory.file("elsewhere"))
        default: break
        }
        var before = stat()
        lstat(blob, &before)
        try data.write(to: URL(fileURLWithPath: store.partialPath(for: digest)))
        try store.commit(partialFor: digest, verifiedSHA256: digest.encoded, size: Int64(data.count))
        var after = stat()
        lstat(blob, &after)
        #expect((after.st_mode & S_IFMT) == S_IFREG)
        #expect((after.st_ino == before.st_ino) == (existing == "verified"))
        #expect(try store.read(digest) == data)
        #expect(!FileManager.default.fileExists(atPath: store.partialPath(for: digest)))
    }

    /// What is at a partial download's name is written only if it is a plain file of its own.
    @Test(arguments: ["link", "hard link", "directory", "plain"])
    func preparePartialRemovesWhatIsNotAPlainFileOfItsOwn(planted: String) throws {
        let directory = try TemporaryDirectory(prefix: "store")
        let store = ContentStore(root: directory.file("store"))
        let digest = try Self.digest(of: Data("partial".utf8))
        let partial = store.partialPath(for: digest)
        let victim = directory.file("victim")
        try Data("victim".utf8).write(to: URL(fileURLWithPath: victim))
        switch planted {
        case "link": try FileManager.default.createSymbolicLink(atPath: partial, withDestinationPath: victim)
        case "hard link": link(victim, partial)
        case "directory": try FileManager.default.createDirectory(atPath: partial + "/x", withIntermediateDirectories: true)
        default: try Data("resume me".utf8).write(to: URL(fileURLWithPath: partial))
        }
        _ = try store.preparePartial(for: digest)
        #expect(store.partialLength(for: digest) == (planted == "plain" ? 9 : 0))
        #expect(FileManager.default.fileExists(atPath: partial) == (planted == "plain"))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "victim")
    }
}
