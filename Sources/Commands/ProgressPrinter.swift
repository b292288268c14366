import Coordinator
import Foundation
import Registry
import Transport

/// Progress on stderr: the I/O around `ProgressState` and `ProgressView`, which decide every line.
///
/// On a terminal: each step on a line of its own, and below them a block redrawn in place at most
/// `terminalInterval` apart (the vantages while they resolve, then a line per layer in flight and
/// the overall line with the ETA), fitted to the terminal's width. Not on a terminal (a CI log):
/// the same steps as plain lines, and every `logInterval` the layers in flight with their share.
/// Download progress is read from the sizes of the partial files, so the transport needs no callbacks.
final class ProgressPrinter: @unchecked Sendable {
    enum Mode {
        case terminal
        case log
    }

    static let terminalInterval = 0.2
    static let logInterval = 2.0

    let mode: Mode
    private let lock = NSLock()
    private var state = ProgressState()
    private var partials: [String: String] = [:]
    /// Vantages downloading the subject itself (a fetch), by name: their transports count the bytes.
    private var transfers: [String: TransferProgress] = [:]
    private var shown = 0
    private var timer: DispatchSourceTimer?
    private let clock: @Sendable () -> Double

    init(mode: Mode, clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.mode = mode
        self.clock = clock
    }

    /// The printer for this process's stderr: live on a terminal, plain lines otherwise.
    static func forStandardError() -> ProgressPrinter {
        ProgressPrinter(mode: Terminal.stderrIsTerminal ? .terminal : .log)
    }

    func handle(_ event: PullEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .blobStarted(let digest, _, let path): partials[digest] = path
        case .blobFinished(let digest, _): partials[digest] = nil
        case .writing: partials = [:]; transfers = [:]
        case .vantageDownloading(let name, let progress): transfers[name] = progress
        case .vantageAnswered(let name, _), .vantageFailed(let name, _): transfers[name] = nil
        default: break
        }
        let steps = state.apply(event, at: clock())
        for step in steps { printLine(step) }
        if case .writing = event {
            stopTimer()
        } else if timer == nil, state.phase == .resolving || state.phase == .downloading {
            startTimer()
        }
        if mode == .terminal { drawBlock() }
    }

    /// A line of its own (a step, or an HTTP exchange under -v), above the live block.
    func log(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        printLine(ProgressView.clean(line))
        if mode == .terminal { drawBlock() }
    }

    /// Stops the display and clears the live block, before the summary is printed.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        stopTimer()
        clearBlock()
        state.phase = .idle
    }

    private func startTimer() {
        let interval = mode == .terminal ? Self.terminalInterval : Self.logInterval
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + interval, repeating: interval)
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
        guard timer != nil else { return }
        for (digest, path) in partials {
            var info = stat()
            if stat(path, &info) == 0 { state.setBytes(Int64(info.st_size), of: digest) }
        }
        for (name, progress) in transfers {
            let seen = progress.snapshot
            if seen.started { state.setReceived(seen.received, expected: seen.expected, of: name) }
        }
        state.sample(at: clock())
        switch mode {
        case .terminal:
            drawBlock()
        case .log:
            for line in ProgressView.periodic(state, now: clock()) { Terminal.write(line + "\n") }
        }
    }

    private func printLine(_ line: String) {
        clearBlock()
        Terminal.write(line + "\n")
    }

    private func drawBlock() {
        let lines = ProgressView.live(state, width: Terminal.stderrColumns() ?? 80, now: clock())
        guard !(lines.isEmpty && shown == 0) else { return }
        Terminal.redraw(previous: shown, lines: lines)
        shown = lines.count
    }

    private func clearBlock() {
        guard shown > 0 else { return }
        Terminal.redraw(previous: shown, lines: [])
        shown = 0
    }

    /// Runs `body` with the progress display on stderr (none under `-q`) and, with `exchanges`
    /// (`-v`), a line per HTTP exchange; both end with `body`, however it ends, before the summary.
    static func showing<T>(exchanges: Bool, _ body: (PullEventSink?) async throws -> T) async throws -> T {
        let progress = Terminal.quiet ? nil : forStandardError()
        let stopExchanges = exchanges ? showExchanges(through: progress) : nil
        defer {
            stopExchanges?()
            progress?.finish()
        }
        return try await $current.withValue(progress) {
            try await body(progress.map { printer -> PullEventSink in { event in printer.handle(event) } })
        }
    }

    /// The display showing progress in this task, if any (see `note`).
    @TaskLocal static var current: ProgressPrinter?

    /// A note line (not under -q), above the live block when one is shown, so that the block stays whole.
    static func note(_ line: String) {
        if Terminal.quiet { return }
        if let current { current.log(line) } else { Terminal.note(line) }
    }

    /// `-v`: every HTTP exchange of every vantage, as a line, through `printer` when one is showing
    /// progress (so the live block stays whole). Returns the function that stops it.
    static func showExchanges(through printer: ProgressPrinter?) -> @Sendable () -> Void {
        HTTPExchangeLog.observe { exchange in
            let line = ProgressView.exchangeLine(exchange)
            if let printer { printer.log(line) } else { Terminal.write(ProgressView.clean(line) + "\n") }
        }
        return { HTTPExchangeLog.observe(nil) }
    }
}

extension ProgressView {
    /// `-v`: `http home: GET https://host/v2/app/manifests/1 → 200, 1.2 KB, 0.012 s`; the URL has no
    /// query (signed CDN parameters) and no header is ever shown.
    static func exchangeLine(_ exchange: HTTPExchange) -> String {
        let outcome = exchange.status.map { "\($0)" } ?? "failed (\(exchange.failure ?? "no answer"))"
        return "http \(clean(exchange.vantage)): \(exchange.method) \(clean(exchange.url)) → \(outcome), \(bytes(exchange.bytes)), \(String(format: "%.3f s", exchange.seconds))"
    }
}
