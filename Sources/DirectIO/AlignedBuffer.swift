/// Page-aligned memory for direct I/O: O_DIRECT transfers need the buffer address, the length
/// and the file offset aligned to the device's block size; 4096 covers 512-byte and 4 KiB devices.
struct AlignedBuffer: @unchecked Sendable {
    // Safety: a bare allocation; the reader and writer hand each buffer to one thread at a time.
    static let alignment = 4096

    let base: UnsafeMutableRawPointer
    let count: Int

    /// `size` is rounded up to a multiple of the alignment.
    init(size: Int) {
        count = max(Self.alignment, (size + Self.alignment - 1) / Self.alignment * Self.alignment)
        base = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: Self.alignment)
    }

    func deallocate() {
        base.deallocate()
    }

    static func isAligned(_ value: Int64) -> Bool {
        value >= 0 && value % Int64(alignment) == 0
    }
}
