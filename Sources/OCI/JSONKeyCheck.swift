import Foundation

/// A structural pre-check of digest-bound JSON: no object repeats a key, and nesting stays
/// shallow. A manifest with `"layers"` twice means one thing to a first-wins parser (Foundation)
/// and another to a last-wins one (Go, Python), so the same digest could pin different images
/// for 3tofu and for whoever loads the output; such a body is refused, not interpreted.
///
/// Keys that differ only by case are refused too: Go's encoding/json (skopeo, containerd, Docker,
/// the registry) matches a key to a struct field case-insensitively, so `"layers"` and `"Layers"`
/// in one manifest are one field to Go (the last wins) and two keys to Foundation (which reads
/// `layers`). "Case" is Go's own folding (`foldName`): ASCII letters, and Unicode simple case
/// folding, under which the Kelvin sign `K` is `k` and the long s `ſ` is `s`, but the dotted `İ`
/// and dotless `ı` are not `i`.
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
            /// Two keys Go's encoding/json reads as one: the later key and the earlier one.
            case caseVariantKey(String, String)
            case tooDeep
        }

        public var kind: Kind
        public var offset: Int
    }

    /// The first duplicate key or excess nesting in `bytes`, or nil. Malformed JSON yields nil
    /// (the decoder reports it with better words).
    public static func firstProblem(in bytes: some Collection<UInt8>) -> Problem? {
        let input = Array(bytes)
        // One entry per open container: the keys seen so far, by their Go folding (nil for arrays).
        var stack: [[String: String]?] = []
        var expectingKey = false
        var index = 0
        while index < input.count {
            let byte = input[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append([:])
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
                    let folded = goFolded(text)
                    if let earlier = keys[folded] {
                        return Problem(kind: earlier == text ? .duplicateKey(text) : .caseVariantKey(text, earlier), offset: start)
                    }
                    keys[folded] = text
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

    /// `key` folded as Go's encoding/json folds names (`foldName`): ASCII letters upper-cased, every
    /// other character replaced by the smallest character of its simple case folding orbit
    /// (`unicode.SimpleFold`). Two keys fold alike exactly when Go may read one for the other.
    public static func goFolded(_ key: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in key.unicodeScalars {
            out.append(goFoldedScalar(scalar))
        }
        return String(out)
    }

    static func goFoldedScalar(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            return (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(UInt8(scalar.value)) ? Unicode.Scalar(scalar.value - 32)! : scalar
        }
        if let smallest = orbitMinimum[scalar.value] { return Unicode.Scalar(smallest)! }
        // Outside the orbits, a class is the character and its simple lower- (else upper-) case
        // mapping. A full mapping of several characters (ß → SS) has no simple counterpart that
        // matters here: the partner's single-character mapping leads back (ᾈ → ᾀ).
        for mapping in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping] {
            let mapped = mapping.unicodeScalars
            if mapped.count == 1, let other = mapped.first, other != scalar {
                return min(scalar, other)
            }
        }
        return scalar
    }

    /// Go's `caseOrbit` table (unicode/tables.go, Unicode 15): the classes that are not a plain
    /// upper/lower pair, each character mapped to the smallest in its class. İ and ı stand alone.
    static let orbitMinimum: [UInt32: UInt32] = {
        let orbits: [[UInt32]] = [
            [0x4B, 0x6B, 0x212A], [0x53, 0x73, 0x17F], [0xB5, 0x39C, 0x3BC], [0xC5, 0xE5, 0x212B], [0xDF, 0x1E9E], [0x130], [0x131],
            [0x1C4, 0x1C5, 0x1C6], [0x1C7, 0x1C8, 0x1C9], [0x1CA, 0x1CB, 0x1CC], [0x1F1, 0x1F2, 0x1F3], [0x345, 0x399, 0x3B9, 0x1FBE],
            [0x392, 0x3B2, 0x3D0], [0x395, 0x3B5, 0x3F5], [0x398, 0x3B8, 0x3D1, 0x3F4], [0x39A, 0x3BA, 0x3F0], [0x3A0, 0x3C0, 0x3D6],
            [0x3A1, 0x3C1, 0x3F1], [0x3A3, 0x3C2, 0x3C3], [0x3A6, 0x3C6, 0x3D5], [0x3A9, 0x3C9, 0x2126], [0x412, 0x432, 0x1C80],
            [0x414, 0x434, 0x1C81], [0x41E, 0x43E, 0x1C82], [0x421, 0x441, 0x1C83], [0x422, 0x442, 0x1C84, 0x1C85], [0x42A, 0x44A, 0x1C86],
            [0x462, 0x463, 0x1C87], [0x1C88, 0xA64A, 0xA64B], [0x1E60, 0x1E61, 0x1E9B],
        ]
        var table: [UInt32: UInt32] = [:]
        for orbit in orbits {
            let smallest = orbit.min() ?? 0
            for member in orbit { table[member] = smallest }
        }
        return table
    }()

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
