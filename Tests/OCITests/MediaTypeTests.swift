import Testing
@testable import OCI

struct MediaTypeTests {
    enum Kind: Sendable { case index, manifest, schema1, layer, other }

    @Test(arguments: [
        (MediaType.ociIndex, Kind.index),
        (MediaType.dockerManifestList, .index),
        ("application/vnd.oci.image.index.v1+json; charset=utf-8", .index),
        (MediaType.ociManifest, .manifest),
        (MediaType.dockerManifest, .manifest),
        (" Application/VND.Docker.Distribution.Manifest.V2+JSON ", .manifest),
        (MediaType.dockerSchema1Manifest, .schema1),
        (MediaType.dockerSchema1SignedManifest, .schema1),
        (MediaType.ociLayerTar, .layer),
        (MediaType.ociLayerGzip, .layer),
        (MediaType.ociLayerZstd, .layer),
        (MediaType.ociLayerNondistributableTar, .layer),
        (MediaType.ociLayerNondistributableGzip, .layer),
        (MediaType.ociLayerNondistributableZstd, .layer),
        (MediaType.dockerLayerGzip, .layer),
        (MediaType.dockerForeignLayerGzip, .layer),
        (MediaType.ociConfig, .other),
        (MediaType.dockerConfig, .other),
        (MediaType.ociEmptyJSON, .other),
        ("application/json", .other),
        ("", .other),
    ])
    func classifies(_ mediaType: String, kind: Kind) {
        #expect(MediaType.isIndex(mediaType) == (kind == .index))
        #expect(MediaType.isManifest(mediaType) == (kind == .manifest))
        #expect(MediaType.isSchema1(mediaType) == (kind == .schema1))
        #expect(MediaType.isLayer(mediaType) == (kind == .layer))
    }

    @Test(arguments: [
        (MediaType.dockerManifest, MediaType.ociManifest as String?),
        (MediaType.dockerManifestList, MediaType.ociIndex),
        (MediaType.dockerConfig, MediaType.ociConfig),
        (MediaType.dockerLayerGzip, MediaType.ociLayerGzip),
        (MediaType.dockerForeignLayerGzip, MediaType.ociLayerNondistributableGzip),
        (MediaType.ociManifest, nil),
        (MediaType.dockerSchema1Manifest, nil),
        ("text/html", nil),
    ])
    func convertsDockerTypesToOCI(_ dockerType: String, expected: String?) {
        #expect(MediaType.ociEquivalent(of: dockerType) == expected)
    }

    @Test func acceptsExactlyTheFourV2ManifestTypes() {
        #expect(MediaType.manifestAcceptTypes == [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
        ])
    }

    @Test(arguments: [
        ("application/json", "application/json"),
        ("Application/JSON; charset=utf-8", "application/json"),
        ("  text/html  ;q=1", "text/html"),
        ("", ""),
    ])
    func extractsTheEssence(_ mediaType: String, expected: String) {
        #expect(MediaType.essence(mediaType) == expected)
    }
}
