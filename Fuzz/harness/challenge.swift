// libFuzzer target: AuthChallenge.parse on arbitrary WWW-Authenticate values.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChallenge(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let challenges = try? AuthChallenge.parse(text) {
        for challenge in challenges {
            precondition(!challenge.scheme.isEmpty, "a challenge with an empty scheme")
            _ = challenge.parameter("realm")
        }
    }
    return 0
}
