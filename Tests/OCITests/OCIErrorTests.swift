import Testing
@testable import OCI

struct OCIErrorTests {
    @Test func descriptionIsTheMessage() {
        let error = OCIError(.invalidDigest, "digest \"x\" has no ':'")
        #expect(error.description == "digest \"x\" has no ':'")
        #expect("\(error)" == error.message)
    }

    @Test func codesAreDistinctAndNamed() {
        let codes: [OCIError.Code] = [
            .invalidReference, .invalidDigest, .unsupportedDigestAlgorithm, .invalidPlatform, .notJSON,
            .invalidManifest, .schema1Unsupported, .unsupportedMediaType, .platformNotFound, .invalidChallenge,
        ]
        #expect(Set(codes).count == codes.count)
        #expect(OCIError.Code.schema1Unsupported.description == "schema1Unsupported")
        #expect(OCIError(.notJSON, "a") != OCIError(.invalidManifest, "a"))
    }
}
