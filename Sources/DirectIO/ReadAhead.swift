import Dispatch

/// Reads a file descriptor into a ring of buffers on a queue of its own, a few buffers ahead of
/// the consumer, so reading from disk overlaps with what the consumer does with the bytes
/// (hashing them, writing them elsewhere).
final class ReadAhead: @unchecked Sendable {
    // Safety: slot `i`'s buffer and result are written by the producer between `free.wait()`
    // and `filled.signal()`, and read by the consumer between `filled.wait()` and its next
    // `free.signal()`; the semaphores order every access. `stopped` is guarded by `lock`.
    private let buffers: [AlignedBuffer]
    /// Per slot: the byte count read, or minus the errno of a failed read. Raw memory rather than
    /// an array, so the two threads never touch a shared copy-on-write buffer.
    private let results: UnsafeMutablePointer<Int>
    private let free: DispatchSemaphore
    private let filled = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let lock = DispatchSemaphore(value: 0)
    private var stopped = false
    private var consumerSlot = 0
    private var holding = false
    /// The chunk that ended the stream (empty, or a failure): returned again by later calls.
    private var ending: Result<Int, DirectIOError>?

    /// Starts reading at once with `read`, which fills a buffer and returns the byte count (0 at
    /// the end of the file).
    init(slots: Int, bufferSize: Int, read: @escaping @Sendable (UnsafeMutableRawPointer, Int) throws(DirectIOError) -> Int) {
        buffers = (0..<max(2, slots)).map { _ in AlignedBuffer(size: bufferSize) }
        results = UnsafeMutablePointer<Int>.allocate(capacity: buffers.count)
        results.initialize(repeating: 0, count: buffers.count)
        // Semaphores start at 0 and are signalled up: libdispatch traps when one is freed with a
        // value below the one it was created with, which a stop before the end would leave.
        free = DispatchSemaphore(value: 0)
        for _ in buffers { free.signal() }
        lock.signal()
        DispatchQueue(label: "3tofu.directio.read-ahead", qos: .userInitiated).async { self.produce(read) }
    }

    private func produce(_ read: (UnsafeMutableRawPointer, Int) throws(DirectIOError) -> Int) {
        var slot = 0
        while true {
            free.wait()
            if isStopped { break }
            let buffer = buffers[slot]
            let result: Int
            do {
                result = try read(buffer.base, buffer.count)
            } catch {
                result = -Int(max(1, error.code))
            }
            results[slot] = result
            filled.signal()
            if result > 0 {
                slot = (slot + 1) % buffers.count
                continue
            }
            break  // the end of the file, or a failure: the consumer sees it and asks no further
        }
        finished.signal()
    }

    private var isStopped: Bool {
        lock.wait()
        defer { lock.signal() }
        return stopped
    }

    /// The next chunk (empty at the end of the file); valid until the next call.
    func next() throws(DirectIOError) -> UnsafeRawBufferPointer {
        if let ending {
            _ = try ending.get()
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        if holding {
            holding = false
            free.signal()
            consumerSlot = (consumerSlot + 1) % buffers.count
        }
        filled.wait()
        holding = true
        let count = results[consumerSlot]
        if count > 0 {
            return UnsafeRawBufferPointer(start: buffers[consumerSlot].base, count: count)
        }
        let result: Result<Int, DirectIOError> = count == 0 ? .success(0) : .failure(DirectIOError(code: Int32(-count)))
        ending = result
        _ = try result.get()
        return UnsafeRawBufferPointer(start: buffers[consumerSlot].base, count: count)
    }

    /// Stops the producer and waits for it; afterwards the buffers are freed. Call once.
    func stop() {
        lock.wait()
        stopped = true
        lock.signal()
        free.signal()  // wake a producer that waits for a free slot
        finished.wait()
        for buffer in buffers { buffer.deallocate() }
        results.deallocate()
    }
}
