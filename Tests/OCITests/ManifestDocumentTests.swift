import Foundation
import Testing
@testable import OCI

struct ManifestDocumentTests {
    enum Kind: Sendable { case manifest, index }

    /// A fixture body with a short name, so test output lists cases by name, not by a page of JSON.
    struct Body: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var testDescription: String { name }

        static let dockerHubIndex = Body(name: "Docker Hub OCI index with attestations", text: Fixtures.dockerHubIndexWithAttestations)
        static let manifestList = Body(name: "Docker manifest list", text: Fixtures.dockerManifestList)
        static let dockerManifest = Body(name: "Docker v2 manifest", text: Fixtures.dockerManifest)
        static let ociManifest = Body(name: "OCI manifest without mediaType", text: Fixtures.ociManifestWithoutMediaType)
        static let ociIndex = Body(name: "OCI index without mediaType", text: Fixtures.ociIndexWithoutMediaType)
        static let schema1 = Body(name: "signed schema 1 manifest", text: Fixtures.schema1)
    }

    static func kind(of document: ManifestDocument) -> Kind {
        switch document {
        case .manifest: .manifest
        case .index: .index
        }
    }

    @Test(arguments: [
        (Body.dockerHubIndex, nil as String?, Kind.index, MediaType.ociIndex as String?),
        (Body.dockerHubIndex, MediaType.ociIndex, .index, MediaType.ociIndex),
        (Body.manifestList, MediaType.dockerManifestList, .index, MediaType.dockerManifestList),
        (Body.dockerManifest, MediaType.dockerManifest, .manifest, MediaType.dockerManifest),
        (Body.dockerManifest, "application/json", .manifest, MediaType.dockerManifest),
        (Body.ociManifest, MediaType.ociManifest, .manifest, nil),
        (Body.ociManifest, nil, .manifest, nil),
        (Body.ociIndex, "application/vnd.oci.image.index.v1+json; charset=utf-8", .index, nil),
        (Body.ociIndex, "application/octet-stream", .index, nil),
        (Body.ociIndex, "", .index, nil),
    ])
    func decidesTheKind(body: Body, contentType: String?, kind: Kind, mediaType: String?) throws {
        let document = try ManifestDocument.decode(Fixtures.data(body.text), contentType: contentType)
        #expect(Self.kind(of: document) == kind)
        #expect(document.mediaType == mediaType)
    }

    @Test func decodesManifestFields() throws {
        let document = try ManifestDocument.decode(Fixtures.data(Fixtures.ociManifestWithoutMediaType), contentType: MediaType.ociManifest)
        guard case .manifest(let manifest) = document else {
            Issue.record("expected a manifest, got \(document)")
            return
        }
        #expect(manifest.schemaVersion == 2)
        #expect(manifest.config.mediaType == MediaType.ociConfig)
        #expect(manifest.config.size == 7)
        #expect(manifest.layers.map(\.digest.algorithm) == [.sha512])
        #expect(manifest.layers.first?.annotations?["org.opencontainers.image.title"] == "layer")
        #expect(manifest.annotations?["org.opencontainers.image.created"] == "2024-01-01T00:00:00Z")
        #expect(document.referencedDescriptors.count == 2)
    }

    @Test(arguments: [
        (Body.schema1, nil as String?),
        (Body.schema1, MediaType.dockerSchema1SignedManifest),
        (Body.schema1, MediaType.dockerManifest),
        (Body(name: "v2 body declaring a schema 1 mediaType", text: #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}"#), nil),
    ])
    func refusesSchema1(body: Body, contentType: String?) {
        #expect {
            try ManifestDocument.decode(Fixtures.data(body.text), contentType: contentType, origin: "hello-world:latest")
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == .schema1Unsupported && error.message.contains("the manifest for hello-world:latest")
                && error.message.contains("pull by digest of a v2/OCI manifest (`REF@sha256:…`)")
        }
    }

    @Test func refusesAnHTMLPageWithAReadablePreview() {
        #expect {
            try ManifestDocument.decode(Fixtures.data(Fixtures.htmlPage), contentType: "text/html; charset=utf-8")
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == .notJSON
                && error.message.contains(#"begins "<!DOCTYPE html>\n<html><head><title>Hotel Wi-Fi login</title></head><body>Please …""#)
                && error.message.contains("captive portal") && error.message.contains("check the registry address")
                && !error.message.contains("\n")
        }
    }

    @Test(arguments: [
        ("", "is empty"),
        ("  \n ", "is empty"),
        ("\u{1b}[31mError\u{0}", #"\u{1b}[31mError\u{0}"#),
        ("[1,2]", "is not JSON"),
        (#"{"schemaVersion": 2, "manifests": ["#, "does not parse (truncated or corrupted)"),
        ("\u{FEFF}{}", "is not JSON"),
    ])
    func refusesBodiesThatAreNotJSONObjects(body: String, fragment: String) {
        #expect {
            try ManifestDocument.decode(Fixtures.data(body), contentType: MediaType.ociManifest)
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == .notJSON && error.message.contains(fragment)
        }
    }

    static let config = #""config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(Fixtures.sha256("c"))","size":2}"#

    @Test(arguments: [
        (#"{"schemaVersion":3,\#(config),"layers":[]}"#, nil as String?, OCIError.Code.invalidManifest, "schemaVersion 3"),
        (#"{\#(config),"layers":[]}"#, nil, .invalidManifest, "has no schemaVersion"),
        (#"{"schemaVersion":"2",\#(config),"layers":[]}"#, nil, .invalidManifest, "`schemaVersion` has the wrong type"),
        (
            #"{"schemaVersion":2,\#(config),"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"\#(Fixtures.sha256("d"))","size":-1}]}"#,
            nil, .invalidManifest, "`layers[0].size`: size -1 is negative"
        ),
        (
            #"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:ABC","size":2},"layers":[]}"#,
            nil, .invalidManifest, "`config.digest`"
        ),
        (#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#, nil, .invalidManifest, "`config` is missing"),
        (#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"md5:00","size":1}]}"#, nil, .invalidManifest, "`manifests[0].digest`"),
        (
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            MediaType.ociManifest, .invalidManifest, "the response is inconsistent"
        ),
        (
            #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",\#(config),"layers":[]}"#,
            MediaType.dockerManifestList, .invalidManifest, "the response is inconsistent"
        ),
        (#"{"schemaVersion":2,\#(config),"layers":[]}"#, MediaType.dockerSchema1SignedManifest, .invalidManifest, "inconsistent"),
        (#"{"schemaVersion":2}"#, nil, .invalidManifest, "cannot tell whether"),
        (#"{"schemaVersion":2,"manifests":[],"layers":[]}"#, "application/json", .invalidManifest, "cannot tell whether"),
        (
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.artifact.manifest.v1+json","blobs":[]}"#,
            nil, .unsupportedMediaType, "\"application/vnd.oci.artifact.manifest.v1+json\""
        ),
    ])
    func refusesMalformedDocuments(body: String, contentType: String?, code: OCIError.Code, fragment: String) {
        #expect {
            try ManifestDocument.decode(Fixtures.data(body), contentType: contentType)
        } throws: { error in
            guard let error = error as? OCIError else { return false }
            return error.code == code && error.message.contains(fragment)
        }
    }

    @Test func keepsUnknownLayerMediaTypesAsStrings() throws {
        let body = #"{"schemaVersion":2,\#(Self.config),"layers":[{"mediaType":"application/vnd.example.weird+tar","digest":"\#(Fixtures.sha256("d"))","size":0}]}"#
        let document = try ManifestDocument.decode(Fixtures.data(body), contentType: nil)
        #expect(document.referencedDescriptors.last?.mediaType == "application/vnd.example.weird+tar")
    }
}
