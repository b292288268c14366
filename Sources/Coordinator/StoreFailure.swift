import Artifacts

/// What a failure to put an agreed blob into the cache is: bytes that do not match their digest
/// (tampering on the route that sent them) or the cache's file system refusing (an I/O error, which
/// says nothing about the bytes). Pure.
enum StoreFailure {
    static func config(_ error: any Error, digest: String, storeRoot: String) -> CoordinatorError {
        if let error = error as? ArtifactsError, error.code == .digestMismatch || error.code == .sizeMismatch {
            return CoordinatorError(.notMet, "the agreed config blob does not match its digest \(digest): \(error.message)")
        }
        let reason = (error as? ArtifactsError)?.message ?? String(describing: error)
        return CoordinatorError(
            .notMet,
            "could not store the agreed config blob \(digest) in the cache \(storeRoot): \(reason). This is an input/output error of the cache, "
                + "not a problem with the image: check that the cache directory is writable and has free space, or point $THREETOFU_CACHE elsewhere")
    }
}
