import Foundation

/// Reads a tar archive (USTAR, PAX `x` headers, GNU long names) member by member, streaming each
/// member's bytes in chunks. Used to check written archives; it never extracts anything.
struct TarReader {
    struct Member {
        var name: String
        var size: Int64
        /// "0" regular file, "5" directory, and so on.
        var type: UInt8
        var isRegularFile: Bool { type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7") }
        var isDirectory: Bool { type == UInt8(ascii: "5") }
        /// What a member that is neither a file nor a directory is, for messages.
        var kindName: String {
            switch type {
            case UInt8(ascii: "1"): "a hard link"
            case UInt8(ascii: "2"): "a symbolic link"
            case UInt8(ascii: "3"): "a character device"
            case UInt8(ascii: "4"): "a block device"
            case UInt8(ascii: "6"): "a FIFO"
            default: "of tar type '\(String(decoding: [type], as: UTF8.self))'"
            }
        }
    }

    static let blockSize = 512
    private let handle: FileHandle
    private let path: String
    /// Every byte read so far goes through this (for the SHA-256 of the whole file).
    private let observe: (Data) -> Void

    /// Reads from `fd` (open on the regular file `path`, checked by the caller), which it closes.
    init(fileDescriptor fd: Int32, path: String, observe: @escaping (Data) -> Void) {
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.path = path
        self.observe = observe
    }

    /// Calls `body` for each member with a function that yields the member's data in chunks
    /// (nil at its end). Data `body` does not consume is skipped. Reads to the end of the file.
    func forEachMember(_ body: (Member, () throws -> Data?) throws -> Void) throws {
        defer { try? handle.close() }
        var pendingName: String?
        var pendingSize: Int64?
        while true {
            guard let header = try readExactly(Self.blockSize, allowEnd: true) else { break }
            if header.allSatisfy({ $0 == 0 }) {
                while let rest = try handle.read(upToCount: 1 << 20), !rest.isEmpty { observe(rest) }
                break
            }
            let bytes = [UInt8](header)
            var name = Self.string(bytes[0..<100])
            let magic = Self.string(bytes[257..<262])
            if magic == "ustar" {
                let prefix = Self.string(bytes[345..<500])
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            var size = try Self.number(bytes[124..<136], path: path)
            let type = bytes[156]
            if type == UInt8(ascii: "x") || type == UInt8(ascii: "g") || type == UInt8(ascii: "L") || type == UInt8(ascii: "K") {
                guard size <= 1 << 20 else { throw ReportError("\(path) has an extended tar header of \(size) bytes; it is not an archive 3tofu wrote") }
                let data = try readMember(size: size)
                if type == UInt8(ascii: "x") {
                    for (key, value) in Self.paxRecords(data) {
                        if key == "path" { pendingName = value }
                        if key == "size", let parsed = Int64(value) { pendingSize = parsed }
                    }
                } else if type == UInt8(ascii: "L") {
                    pendingName = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                }
                continue
            }
            if let pendingName { name = pendingName }
            if let pendingSize { size = pendingSize }
            pendingName = nil
            pendingSize = nil
            while name.hasPrefix("./") { name.removeFirst(2) }
            var remaining = type == UInt8(ascii: "5") ? 0 : size
            try body(Member(name: name, size: size, type: type)) {
                guard remaining > 0 else { return nil }
                let count = Int(min(remaining, 1 << 20))
                guard let chunk = try readExactly(count, allowEnd: false) else { return nil }
                remaining -= Int64(count)
                return chunk
            }
            while remaining > 0 {
                let count = Int(min(remaining, 1 << 20))
                _ = try readExactly(count, allowEnd: false)
                remaining -= Int64(count)
            }
            let padding = (Self.blockSize - Int(size % Int64(Self.blockSize))) % Self.blockSize
            if type != UInt8(ascii: "5"), padding > 0 { _ = try readExactly(padding, allowEnd: false) }
        }
    }

    private func readMember(size: Int64) throws -> Data {
        let data = try readExactly(Int(size), allowEnd: false) ?? Data()
        let padding = (Self.blockSize - Int(size % Int64(Self.blockSize))) % Self.blockSize
        if padding > 0 { _ = try readExactly(padding, allowEnd: false) }
        return data
    }

    private func readExactly(_ count: Int, allowEnd: Bool) throws -> Data? {
        guard count > 0 else { return Data() }
        var data = Data()
        while data.count < count {
            guard let chunk = try handle.read(upToCount: count - data.count), !chunk.isEmpty else {
                if allowEnd, data.isEmpty { return nil }
                throw ReportError("\(path) ends in the middle of a tar member: the archive is truncated")
            }
            data.append(chunk)
        }
        observe(data)
        return data
    }

    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func number(_ bytes: ArraySlice<UInt8>, path: String) throws -> Int64 {
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x7f)
            for byte in bytes.dropFirst() { value = value << 8 | Int64(byte) }
            return value
        }
        let text = string(bytes).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = Int64(text, radix: 8) else {
            throw ReportError("\(path) has a tar header with the size field \"\(text)\": it is not a tar archive, or it is damaged")
        }
        return value
    }

    /// `"<length> <key>=<value>\n"` records.
    private static func paxRecords(_ data: Data) -> [(String, String)] {
        var records: [(String, String)] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            guard let equals = record.firstIndex(of: "=") else { continue }
            records.append((String(record[..<equals]), String(record[record.index(after: equals)...])))
        }
        return records
    }
}
