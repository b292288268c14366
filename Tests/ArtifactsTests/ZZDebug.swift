import Artifacts
import Foundation
import Testing

@Test func zzDebugDump() throws {
    let sample = try SampleImage()
    try? FileManager.default.removeItem(atPath: "/tmp/art-debug")
    try FileManager.default.createDirectory(atPath: "/tmp/art-debug", withIntermediateDirectories: true)
    try ArtifactWriter.write(try sample.image(docker: true), format: .dockerArchive, to: "/tmp/art-debug/d.tar", store: sample.store)
    try ArtifactWriter.write(try sample.image(docker: false, name: "registry-1.docker.io/library/hitch:latest"), format: .dockerArchive, to: "/tmp/art-debug/hub.tar", store: sample.store)
    try ArtifactWriter.write(try sample.image(docker: true), format: .oci, to: "/tmp/art-debug/layout", store: sample.store)
    try ArtifactWriter.write(try sample.image(docker: true), format: .ociArchive, to: "/tmp/art-debug/o.tar", store: sample.store)
}
