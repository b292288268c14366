import Coordinator
import Foundation
import OCI

/// What the progress display knows about a run, built from `PullEvent`s and from the byte counts
/// of the downloads in flight. Pure: the caller passes the time (seconds since any fixed point) and
/// the byte counts; `ProgressPrinter` does the clock, the file sizes and the terminal.
struct ProgressState: Equatable {
    enum VantageState: Equatable {
        case waiting
        case answered(digest: String, seconds: Double)
        case failed(message: String, seconds: Double)
    }

    struct Layer: Equatable {
        var digest: String
        var size: Int64
        var bytes: Int64 = 0
        var started: Double
    }

    enum Phase: Equatable {
        case idle
        case resolving
        case downloading
        case writing
    }

    var phase = Phase.idle
    var resolveStarted: Double = 0
    var vantages: [(name: String, state: VantageState)] = []
    var plannedCount = 0
    var plannedBytes: Int64 = 0
    var downloadStarted: Double = 0
    /// Layers in flight, in the order they started.
    var layers: [Layer] = []
    var finishedCount = 0
    var finishedBytes: Int64 = 0

    static func == (left: ProgressState, right: ProgressState) -> Bool {
        left.phase == right.phase && left.vantages.map(\.name) == right.vantages.map(\.name)
            && left.vantages.map(\.state) == right.vantages.map(\.state) && left.layers == right.layers
            && left.finishedCount == right.finishedCount && left.finishedBytes == right.finishedBytes
    }

    /// Applies `event` at time `now`; returns the lines that record a step (printed once, above the
    /// live display on a terminal, as they are in a log).
    mutating func apply(_ event: PullEvent, at now: Double) -> [String] {
        switch event {
        case .resolving(let names):
            phase = .resolving
            resolveStarted = now
            vantages = names.map { ($0, .waiting) }
            return ["resolving on \(ProgressView.count(names.count, "vantage")): \(names.map(ProgressView.clean).joined(separator: ", "))"]
        case .vantageAnswered(let name, let digest):
            let seconds = now - resolveStarted
            set(name, .answered(digest: digest, seconds: seconds))
            return ["vantage \(ProgressView.clean(name)) answered in \(ProgressView.seconds(seconds)): \(ProgressView.shortDigest(digest))"]
        case .vantageFailed(let name, let message):
            let seconds = now - resolveStarted
            set(name, .failed(message: message, seconds: seconds))
            return ["vantage \(ProgressView.clean(name)) failed after \(ProgressView.seconds(seconds)): \(ProgressView.clean(String(message.prefix(200))))"]
        case .blobsPlanned(let count, let bytes, let cached):
            phase = .downloading
            plannedCount = count
            plannedBytes = bytes
            finishedCount = cached
            finishedBytes = 0
            downloadStarted = now
            return ["downloading \(count - cached) of \(ProgressView.count(count, "layer")) (\(ProgressView.bytes(bytes)) in all, \(cached) already verified in the cache)"]
        case .blobStarted(let digest, let size, _):
            if !layers.contains(where: { $0.digest == digest }) {
                layers.append(Layer(digest: digest, size: size, started: now))
            }
            return []
        case .blobFinished(let digest, let size):
            layers.removeAll { $0.digest == digest }
            finishedCount += 1
            finishedBytes += size
            return ["layer \(ProgressView.shortDigest(digest)) verified (\(ProgressView.bytes(size)))"]
        case .waitingForAnotherRun(let digest):
            return ["layer \(ProgressView.shortDigest(digest)): waiting for another 3tofu run on this cache to download it"]
        case .writing(let path, let format):
            phase = .writing
            layers = []
            return ["writing \(format) to \(ProgressView.clean(path))"]
        }
    }

    /// Records how many bytes of a layer in flight are on disk.
    mutating func setBytes(_ bytes: Int64, of digest: String) {
        guard let index = layers.firstIndex(where: { $0.digest == digest }) else { return }
        layers[index].bytes = min(max(0, bytes), layers[index].size)
    }

    private mutating func set(_ name: String, _ state: VantageState) {
        if let index = vantages.firstIndex(where: { $0.name == name }) {
            vantages[index].state = state
        } else {
            vantages.append((name, state))
        }
    }

    /// Bytes verified or on disk so far.
    var doneBytes: Int64 { finishedBytes + layers.reduce(0) { $0 + $1.bytes } }
}

/// The display's decisions: from a `ProgressState` to lines. No I/O, no clock.
enum ProgressView {
    /// Layers in flight shown one per line; more are counted on one line (the block stays short).
    static let maximumLayerLines = 8

    /// The block redrawn in place on a terminal: the vantages while they resolve (the one still
    /// waited for says so), then one line per layer in flight and the overall line with the ETA.
    /// Every line fits in `width` columns.
    static func live(_ state: ProgressState, width: Int, now: Double) -> [String] {
        var lines: [String] = []
        switch state.phase {
        case .idle, .writing:
            return []
        case .resolving:
            let nameWidth = state.vantages.map { clean($0.name).count }.max() ?? 0
            for (name, vantageState) in state.vantages {
                let label = "  " + clean(name).padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                switch vantageState {
                case .waiting: lines.append(label + "waiting for an answer… \(seconds(now - state.resolveStarted))")
                case .answered(let digest, let taken): lines.append(label + "answered in \(seconds(taken))  \(shortDigest(digest))")
                case .failed(let message, let taken): lines.append(label + "failed after \(seconds(taken)): \(clean(message))")
                }
            }
        case .downloading:
            let elapsed = max(0.001, now - state.downloadStarted)
            for layer in state.layers.prefix(maximumLayerLines) {
                let rate = Double(layer.bytes) / max(0.001, now - layer.started)
                lines.append(
                    "  \(shortDigest(layer.digest))  \(bytes(layer.bytes)) / \(bytes(layer.size))  \(percent(layer.bytes, of: layer.size))  \(bytes(Int64(rate)))/s")
            }
            if state.layers.count > maximumLayerLines {
                lines.append("  … and \(count(state.layers.count - maximumLayerLines, "more layer")) in flight")
            }
            let done = state.doneBytes
            let rate = Double(done) / elapsed
            var overall = "\(state.finishedCount)/\(state.plannedCount) layers  \(bytes(done)) / \(bytes(state.plannedBytes))  "
                + "\(percent(done, of: state.plannedBytes))  \(bytes(Int64(rate)))/s"
            if let eta = eta(remaining: state.plannedBytes - done, rate: rate) { overall += "  ETA \(eta)" }
            lines.append(overall)
        }
        return lines.map { fit($0, width: width) }
    }

    /// A step-by-step log's periodic lines (stderr not a terminal): the vantages still waited for,
    /// and each layer in flight with its share and rate.
    static func periodic(_ state: ProgressState, now: Double) -> [String] {
        switch state.phase {
        case .idle, .writing:
            return []
        case .resolving:
            let waiting = state.vantages.filter { $0.state == .waiting }.map { clean($0.name) }
            guard !waiting.isEmpty else { return [] }
            return ["waiting for \(waiting.joined(separator: ", ")) (\(seconds(now - state.resolveStarted)))"]
        case .downloading:
            let elapsed = max(0.001, now - state.downloadStarted)
            let done = state.doneBytes
            let rate = Double(done) / elapsed
            var lines = state.layers.map { layer in
                let layerRate = Double(layer.bytes) / max(0.001, now - layer.started)
                return "layer \(shortDigest(layer.digest)) \(percent(layer.bytes, of: layer.size)) \(bytes(layer.bytes)) / \(bytes(layer.size)) \(bytes(Int64(layerRate)))/s"
            }
            var overall = "\(state.finishedCount)/\(state.plannedCount) layers \(bytes(done)) / \(bytes(state.plannedBytes)) \(percent(done, of: state.plannedBytes))"
            if let eta = eta(remaining: state.plannedBytes - done, rate: rate) { overall += " ETA \(eta)" }
            lines.append(overall)
            return lines
        }
    }

    /// The bytes that redraw a block of `previous` lines in place with `lines`: back to the block's
    /// first line, clear to the end of the screen, write the new block (the cursor stays at the
    /// end of its last line). Each line must already be one line, safe and fitted.
    static func redraw(previous: Int, lines: [String]) -> String {
        var out = "\r"
        if previous > 1 { out += "\u{1B}[\(previous - 1)A" }
        out += "\u{1B}[J"
        out += lines.joined(separator: "\n")
        return out
    }

    /// `text` cut to `width` columns (one column per character: the text is sanitized ASCII-ish).
    static func fit(_ text: String, width: Int) -> String {
        let room = max(10, width - 1)
        return text.count <= room ? text : String(text.prefix(room - 1)) + "…"
    }

    static func clean(_ text: String) -> String { TerminalText.sanitized(text, oneLine: true) }

    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    static func seconds(_ value: Double) -> String { String(format: "%.1f s", max(0, value)) }

    /// `sha256:0123456789ab…`.
    static func shortDigest(_ digest: String) -> String {
        let text = clean(digest)
        return text.count > 19 ? String(text.prefix(19)) + "…" : text
    }

    static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "100%" }
        return "\(min(100, max(0, Int(Double(part) * 100 / Double(whole)))))%"
    }

    /// `m:ss` (or `h:mm:ss`) left at `rate` bytes per second; nil before there is a rate to go by.
    static func eta(remaining: Int64, rate: Double) -> String? {
        guard rate >= 1, remaining >= 0 else { return nil }
        let total = Int((Double(remaining) / rate).rounded(.up))
        guard total < 100 * 3600 else { return nil }
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    static func bytes(_ value: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var scaled = Double(value)
        var unit = 0
        while scaled >= 1000, unit < units.count - 1 {
            scaled /= 1000
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f", scaled) + " " + units[unit]
    }
}

/// At most one pass per `interval` seconds: how the displays keep to a bounded rate.
struct RateGate: Equatable {
    var interval: Double
    var last: Double?

    mutating func allow(at now: Double) -> Bool {
        if let last, now - last < interval { return false }
        last = now
        return true
    }
}
