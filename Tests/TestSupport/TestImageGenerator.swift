import Foundation

/// The python3 generator behind `TestImage.make` lives in the repository (examples/make-image.py),
/// shared with `make demo` and `make bench`: it reads a JSON spec on stdin, writes an OCI image
/// layout, and prints a JSON summary.
enum TestImageGenerator {
    static var scriptPath: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/make-image.py").path
    }
}
