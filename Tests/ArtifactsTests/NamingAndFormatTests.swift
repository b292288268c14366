@testable import Artifacts
import Testing

@Suite struct NamingAndFormatTests {
    @Test(arguments: [
        ("docker-archive", OutputFormat.dockerArchive), ("oci", .oci), ("oci-archive", .ociArchive), (" OCI ", .oci),
    ])
    func formatsParse(argument: String, expected: OutputFormat) {
        #expect(OutputFormat(argument: argument) == expected)
    }

    @Test(arguments: ["docker", "tar", "", "oci-dir"])
    func unknownFormatsDoNot(argument: String) {
        #expect(OutputFormat(argument: argument) == nil)
    }

    @Test func formatNamesAreTheCommandLineValues() {
        #expect(OutputFormat.allCases.map(\.rawValue) == ["docker-archive", "oci", "oci-archive"])
        #expect(OutputFormat.choices == "docker-archive|oci|oci-archive")
        #expect(OutputFormat.ociArchive.description == "oci-archive")
    }

    @Test(arguments: [
        ("127.0.0.1:5000/a/b:tag", "127.0.0.1:5000/a/b:tag", "tag", "127.0.0.1:5000/a/b:tag"),
        ("registry-1.docker.io/library/hitch:latest", "hitch:latest", "latest", "docker.io/library/hitch:latest"),
        ("registry-1.docker.io/owner/app:v1", "owner/app:v1", "v1", "docker.io/owner/app:v1"),
        ("ghcr.io/homebrew/core/wget:1.24", "ghcr.io/homebrew/core/wget:1.24", "1.24", "ghcr.io/homebrew/core/wget:1.24"),
    ])
    func taggedNames(name: String, repoTag: String, tag: String, containerd: String) throws {
        let naming = try ImageNaming(name)
        #expect(naming.repoTag == repoTag)
        #expect(naming.tag == tag)
        #expect(naming.containerdName == containerd)
    }

    @Test(arguments: [nil, "", "127.0.0.1:5000/a/b", "localhost:5000/x"] as [String?])
    func untaggedNamesNameNothing(name: String?) throws {
        let naming = try ImageNaming(name)
        #expect(naming.repoTag == nil)
        #expect(naming.tag == nil)
    }
}
