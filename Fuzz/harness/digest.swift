// libFuzzer target: Digest(parsing:) on arbitrary text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDigest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let digest = try? Digest(parsing: text) {
        precondition(digest.string == text, "a parsed digest prints differently: \(digest.string)")
        precondition(digest.encoded.utf8.count == digest.algorithm.hexLength)
    }
    return 0
}
