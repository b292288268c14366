import Coordinator
import OCI
import Foundation

/// Live progress on stderr (only when it is a terminal): vantages as they answer, then one line
/// for the layer downloads with bytes, count and rate. Download progress is read from the sizes of
/// the partial files, so the transport needs no callbacks.
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private var active: [String: (size: Int64, path: String)] = [:]
    private var finishedBytes: Int64 = 0
    private var finishedCount = 0
    private var totalCount = 0
    private var totalBytes: Int64 = 0
    private var started = Date()
    private var timer: DispatchSourceTimer?
    private var lineShown = false

    func handle(_ event: PullEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .resolving(let names):
            emit("resolving on \(names.count) vantage\(names.count == 1 ? "" : "s"): \(names.joined(separator: ", "))")
        case .vantageAnswered(let name, let digest):
            emit("  \(name): \(digest)")
        case .vantageFailed(let name, let message):
            emit("  \(name): failed: \(TerminalText.sanitized(String(message.prefix(200)), oneLine: true))")
        case .blobsPlanned(let count, let bytes, let cached):
            totalCount = count
            totalBytes = bytes
            finishedCount = cached
            started = Date()
            emit("downloading \(count - cached) of \(count) layers (\(Self.format(bytes)) in all, \(cached) already verified in the cache)")
            startTimer()
        case .blobStarted(let digest, let size, let path):
            active[digest] = (size, path)
        case .blobFinished(let digest, let size):
            active[digest] = nil
            finishedBytes += size
            finishedCount += 1
            emit("  verified \(digest.prefix(19))… \(Self.format(size))")
        case .waitingForAnotherRun(let digest):
            emit("  waiting for another 3tofu run on this cache, downloading \(digest.prefix(19))…")
        case .writing(let path, let format):
            stopTimer()
            emit("writing \(format) to \(path)")
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        stopTimer()
        clearLine()
    }

    private func startTimer() {
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250))
        timer.setEventHandler { [weak self] in self?.tick() }
        timer.resume()
        self.timer = timer
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
    }

    private func tick() {
        lock.lock()
        defer { lock.unlock() }
        var inFlight: Int64 = 0
        for (_, blob) in active {
            var info = stat()
            if stat(blob.path, &info) == 0 { inFlight += min(Int64(info.st_size), blob.size) }
        }
        let done = finishedBytes + inFlight
        let rate = Double(done) / max(0.001, Date().timeIntervalSince(started))
        let text = "  \(finishedCount)/\(totalCount) layers  \(Self.format(done)) / \(Self.format(totalBytes))  \(Self.format(Int64(rate)))/s"
        Terminal.rewriteLine(text)
        lineShown = true
    }

    private func emit(_ line: String) {
        clearLine()
        Terminal.write(line + "\n")
    }

    private func clearLine() {
        if lineShown {
            Terminal.clearLine()
            lineShown = false
        }
    }

    static func format(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
