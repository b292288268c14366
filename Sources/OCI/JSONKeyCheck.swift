import Foundation

/// A structural pre-check of digest-bound JSON: no object repeats a key, and nesting stays
/// shallow. A manifest with `"layers"` twice means one thing to a first-wins parser (Foundation)
/// and another to a last-wins one (Go, Python), so the same digest could pin different images
/// for 3tofu and for whoever loads the output; such a body is refused, not interpreted.
///
/// The scan is linear and iterative (no recursion); keys are compared after unescaping, so
/// `"a"` and `"\u0061"` are the same key. It does not validate the rest of the grammar: the
/// JSON decoder that runs afterwards does.
public enum JSONKeyCheck {
    /// Deeper nesting than this is refused (manifests and indexes need 4 or 5 levels).
    public static let maximumDepth = 64

    /// A problem found by the scan: what and at which byte offset.
    public struct Problem: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case duplicateKey(String)
            case tooDeep
        }

        public var kind: Kind
        public var offset: Int
    }

    /// The first duplicate key or excess nesting in `bytes`, or nil. Malformed JSON yields nil
    /// (the decoder reports it with better words).
    public static func firstProblem(in bytes: some Collection<UInt8>) -> Problem? {
        let input = Array(bytes)
        // One entry per open container: the keys seen so far (nil for arrays).
        var stack: [Set<String>?] = []
        var expectingKey = false
        var index = 0
        while index < input.count {
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append([])
                if stack.count > maximumDepth { return Problem(kind: .tooDeep, offset: index) }
                expectingKey = true
                index += 1
            case UInt8(ascii: "["):
                stack.append(nil)
                if stack.count > maximumDepth { return Problem(kind: .tooDeep, offset: index) }
                expectingKey = false
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if stack.isEmpty { return nil }
                stack.removeLast()
                expectingKey = false
                index += 1
            case UInt8(ascii: ","):
                expectingKey = stack.last.map { $0 != nil } ?? false
                index += 1
            case UInt8(ascii: "\""):
                let start = index
                guard let (text, end) = readString(input, from: index) else { return nil }
                if expectingKey, let last = stack.indices.last, var keys = stack[last] {
                    if !keys.insert(text).inserted {
                        return Problem(kind: .duplicateKey(text), offset: start)
                    }
                    stack[last] = keys
                }
                expectingKey = false
                index = end
            default:
                index += 1
            }
        }
        return nil
    }

    /// Decodes the JSON string starting at the quote at `start`; returns it and the index after
    /// the closing quote, or nil when the string never ends or has a bad escape. Lone surrogates
    /// become U+FFFD, as in the decoder.
    private static func readString(_ input: [UInt8], from start: Int) -> (String, Int)? {
        var index = start + 1
        var units: [UInt16] = []
        var runStart = index
        func flush(upTo end: Int) {
            if runStart < end { units.append(contentsOf: String(decoding: input[runStart..<end], as: UTF8.self).utf16) }
        }
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "\"") {
                flush(upTo: index)
                return (String(decoding: units, as: UTF16.self), index + 1)
            }
            guard byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            flush(upTo: index)
            guard index + 1 < input.count else { return nil }
            let escape = input[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""): units.append(0x22)
            case UInt8(ascii: "\\"): units.append(0x5C)
            case UInt8(ascii: "/"): units.append(0x2F)
            case UInt8(ascii: "b"): units.append(0x08)
            case UInt8(ascii: "f"): units.append(0x0C)
            case UInt8(ascii: "n"): units.append(0x0A)
            case UInt8(ascii: "r"): units.append(0x0D)
            case UInt8(ascii: "t"): units.append(0x09)
            case UInt8(ascii: "u"):
                guard index + 4 <= input.count, input[index..<index + 4].allSatisfy(isHexDigit),
                    let value = UInt16(String(decoding: input[index..<index + 4], as: UTF8.self), radix: 16)
                else { return nil }
                units.append(value)
                index += 4
            default:
                return nil
            }
            runStart = index
        }
        return nil
    }
}
