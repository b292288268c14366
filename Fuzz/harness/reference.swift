// libFuzzer target: ImageReference(parsing:) and Platform(parsing:) on arbitrary text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReference(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let reference = try? ImageReference(parsing: text) {
        // What parses must print and parse again to the same value.
        let again = try? ImageReference(parsing: reference.description)
        precondition(again == reference, "reference does not round-trip: \(reference.description)")
    }
    _ = try? Platform(parsing: text)
    return 0
}
