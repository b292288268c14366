import Foundation
@testable import OCI

/// Manifest bodies shaped like what real registries return, with made-up digests.
enum Fixtures {
    static func hex(_ character: Character, _ count: Int = 64) -> String { String(repeating: character, count: count) }
    static func sha256(_ character: Character) -> String { "sha256:" + hex(character) }
    static func data(_ text: String) -> Data { Data(text.utf8) }

    /// An OCI index as BuildKit pushes it to Docker Hub: two platforms, each with an attestation manifest.
    static let dockerHubIndexWithAttestations = """
        {
          "manifests": [
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "\(sha256("1"))",
              "size": 1613,
              "platform": { "architecture": "amd64", "os": "linux" }
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "\(sha256("2"))",
              "size": 1613,
              "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "\(sha256("3"))",
              "size": 566,
              "annotations": {
                "vnd.docker.reference.digest": "\(sha256("1"))",
                "vnd.docker.reference.type": "attestation-manifest"
              },
              "platform": { "architecture": "unknown", "os": "unknown" }
            },
            {
              "mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "\(sha256("4"))",
              "size": 566,
              "annotations": {
                "vnd.docker.reference.digest": "\(sha256("2"))",
                "vnd.docker.reference.type": "attestation-manifest"
              },
              "platform": { "architecture": "unknown", "os": "unknown" }
            }
          ],
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "schemaVersion": 2
        }
        """

    /// A Docker manifest list with Linux and Windows entries (Windows ones carry os.version).
    static let dockerManifestList = """
        {
           "schemaVersion": 2,
           "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
           "manifests": [
              {
                 "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "size": 525,
                 "digest": "\(sha256("a"))",
                 "platform": { "architecture": "amd64", "os": "linux" }
              },
              {
                 "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "size": 525,
                 "digest": "\(sha256("b"))",
                 "platform": { "architecture": "arm", "os": "linux", "variant": "v5" }
              },
              {
                 "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "size": 525,
                 "digest": "\(sha256("c"))",
                 "platform": { "architecture": "arm", "os": "linux", "variant": "v7" }
              },
              {
                 "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "size": 1125,
                 "digest": "\(sha256("d"))",
                 "platform": { "architecture": "amd64", "os": "windows", "os.version": "10.0.20348.2966" }
              },
              {
                 "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                 "size": 1125,
                 "digest": "\(sha256("e"))",
                 "platform": { "architecture": "amd64", "os": "windows", "os.version": "10.0.17763.6659" }
              }
           ]
        }
        """

    /// A Docker schema 2 image manifest as distribution returns it.
    static let dockerManifest = """
        {
           "schemaVersion": 2,
           "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
           "config": {
              "mediaType": "application/vnd.docker.container.image.v1+json",
              "size": 1470,
              "digest": "\(sha256("c"))"
           },
           "layers": [
              {
                 "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                 "size": 2459,
                 "digest": "\(sha256("d"))"
              }
           ]
        }
        """

    /// An OCI manifest without a mediaType field (allowed by the image spec), with annotations.
    static let ociManifestWithoutMediaType = """
        {"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\(sha256("e"))","size":7},\
        "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha512:\(hex("f", 128))","size":42,\
        "annotations":{"org.opencontainers.image.title":"layer"}}],"annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"}}
        """

    /// An OCI index without a mediaType field.
    static let ociIndexWithoutMediaType = """
        {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(sha256("1"))","size":10,\
        "platform":{"os":"linux","architecture":"amd64"}}]}
        """

    /// A signed Docker schema 1 manifest (what very old images on some registries still serve).
    static let schema1 = """
        {
           "schemaVersion": 1,
           "name": "library/hello-world",
           "tag": "latest",
           "architecture": "amd64",
           "fsLayers": [ { "blobSum": "\(sha256("a"))" } ],
           "history": [ { "v1Compatibility": "{\\"id\\":\\"x\\"}" } ],
           "signatures": [ { "header": { "alg": "ES256" }, "signature": "abc", "protected": "def" } ]
        }
        """

    /// A captive portal page.
    static let htmlPage = "<!DOCTYPE html>\n<html><head><title>Hotel Wi-Fi login</title></head><body>Please accept the terms</body></html>\n"
}
