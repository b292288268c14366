import Foundation

// libFuzzer target: ManifestDocument.decode (with and without a Content-Type) and JSONKeyCheck.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    _ = JSONKeyCheck.firstProblem(in: bytes)
    _ = try? ManifestDocument.decode(bytes, contentType: nil)
    _ = try? ManifestDocument.decode(bytes, contentType: "application/vnd.oci.image.index.v1+json")
    if case .index(let index)? = try? ManifestDocument.decode(bytes, contentType: "application/vnd.docker.distribution.manifest.v2+json") {
        _ = try? index.select(platform: Platform(os: "linux", architecture: "amd64"))
    }
    return 0
}
