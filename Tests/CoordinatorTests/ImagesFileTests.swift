import Coordinator
import Testing

/// The `--images-from` file: what each line means, and how mistakes are reported.
@Suite struct ImagesFileTests {
    @Test func referencesPlatformsCommentsAndBlankLines() throws {
        let text = """
            # the far side needs these
            alpine:3.20

            \tghcr.io/org/app@sha256:\(String(repeating: "a", count: 64))   # pinned
            nginx:1.27 linux/arm64/v8\r
              127.0.0.1:5000/a/b:1 linux/amd64
            """
        let file = try ImagesFile(parsing: text, path: "images.txt")
        #expect(file.entries.map(\.line) == [2, 4, 5, 6])
        #expect(file.entries.map(\.reference.description) == [
            "registry-1.docker.io/library/alpine:3.20", "ghcr.io/org/app@sha256:" + String(repeating: "a", count: 64),
            "registry-1.docker.io/library/nginx:1.27", "127.0.0.1:5000/a/b:1",
        ])
        #expect(file.entries.map { $0.platform?.description } == [nil, nil, "linux/arm64/v8", "linux/amd64"])
        #expect(file.entries[0].text == "alpine:3.20")
    }

    @Test(arguments: [
        ("alpine:3.20\nnginx linux/arm64 extra\n", "images.txt:2: expected an image reference and at most a platform"),
        ("alpine:3.20\n\nNot A Reference!\n", "images.txt:3:"),
        ("alpine:3.20 linux\n", "images.txt:1:"),
        ("alpine\ndocker.io/library/alpine:latest\n", "images.txt:2: docker.io/library/alpine:latest names the same image as line 1"),
        ("alpine:3.20 linux/amd64\nalpine:3.20 linux/arm64\n", "images.txt:2:"),
        ("# nothing here\n\n", "images.txt lists no images"),
    ])
    func mistakesNameTheFileAndLine(text: String, expected: String) {
        let error = #expect(throws: CoordinatorError.self) { try ImagesFile(parsing: text, path: "images.txt") }
        #expect(error?.kind == .badInput)
        #expect(error?.message.hasPrefix(expected) == true, "\(error?.message ?? "no error")")
    }
}
