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

    /// One vantage of a subject being observed; in a set (a bundle, formulae) its name carries
    /// the subject's label ("alpine/tor").
    struct Vantage: Equatable {
        var name: String
        var state: VantageState
        /// When its subject's resolution started.
        var since: Double
        /// A vantage that downloads the subject itself (a fetch): bytes so far and the length
        /// announced; nil until its transport has seen a body (never on an SSH vantage).
        var received: Int64?
        var expected: Int64?
        var rate = RecentRate()
    }

    struct Layer: Equatable {
        var digest: String
        var size: Int64
        var bytes: Int64 = 0
        var started: Double
        var rate = RecentRate()
    }

    enum Phase: Equatable {
        case idle
        case resolving
        case downloading
        case writing
    }

    var phase = Phase.idle
    var resolveStarted: Double = 0
    var vantages: [Vantage] = []
    var plannedCount = 0
    var plannedBytes: Int64 = 0
    var downloadStarted: Double = 0
    /// Bytes already on disk when the plan was announced (layers the early downloads had begun
    /// before the verdict): not part of the rate since then.
    var bytesAtPlan: Int64 = 0
    /// Layers in flight, in the order they started.
    var layers: [Layer] = []
    var finishedCount = 0
    var finishedBytes: Int64 = 0
    /// The downloads' recent rate, all layers together (the ETA's).
    var overallRate = RecentRate()

    /// Applies `event` at time `now`; returns the lines that record a step (printed once, above the
    /// live display on a terminal, as they are in a log).
    mutating func apply(_ event: PullEvent, at now: Double) -> [String] {
        switch event {
        case .resolving(let names):
            // Another subject of a set while the first still resolves: its vantages join the block.
            if phase != .resolving {
                vantages = []
                resolveStarted = now
            }
            phase = .resolving
            for name in names {
                vantages.removeAll { $0.name == name }
                vantages.append(Vantage(name: name, state: .waiting, since: now))
            }
            return ["resolving on \(ProgressView.count(names.count, "vantage")): \(names.map(ProgressView.clean).joined(separator: ", "))"]
        case .vantageAnswered(let name, let digest):
            let seconds = now - since(name)
            set(name, .answered(digest: digest, seconds: seconds))
            return ["vantage \(ProgressView.clean(name)) answered in \(ProgressView.seconds(seconds)): \(ProgressView.shortDigest(digest))"]
        case .vantageFailed(let name, let message):
            let seconds = now - since(name)
            set(name, .failed(message: message, seconds: seconds))
            return ["vantage \(ProgressView.clean(name)) failed after \(ProgressView.seconds(seconds)): \(ProgressView.clean(String(message.prefix(200))))"]
        case .vantageDownloading(let name, _):
            // Its bytes come through `setReceived` as the transport counts them.
            guard let index = vantages.firstIndex(where: { $0.name == name }), vantages[index].state != .waiting else { return [] }
            // It answered already: the agreed file is downloaded again over its route (the
            // vantage keeping a copy had none), shown as the first download was.
            vantages[index] = Vantage(name: name, state: .waiting, since: now)
            phase = .resolving
            return ["vantage \(ProgressView.clean(name)) downloading the agreed file again (no copy was kept from the first downloads)"]
        case .blobsPlanned(let count, let bytes, let cached):
            phase = .downloading
            plannedCount = count
            plannedBytes = bytes
            finishedCount = cached
            finishedBytes = 0
            downloadStarted = now
            bytesAtPlan = doneBytes
            overallRate = RecentRate()
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
        case .waitingForThisRun(let digest):
            return ["layer \(ProgressView.shortDigest(digest)): another route of this run is bringing it; waiting for it"]
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

    /// Records how far a vantage downloading the subject itself has come (`expected`: the length
    /// its response announced).
    mutating func setReceived(_ received: Int64, expected: Int64?, of name: String) {
        guard let index = vantages.firstIndex(where: { $0.name == name }), vantages[index].state == .waiting else { return }
        vantages[index].received = max(0, received)
        vantages[index].expected = expected
    }

    /// A reading of every rate at `now` (the display's clock tick, after the byte counts).
    mutating func sample(at now: Double) {
        if phase == .downloading { overallRate.sample(doneBytes, at: now) }
        for index in layers.indices { layers[index].rate.sample(layers[index].bytes, at: now) }
        for index in vantages.indices {
            if let received = vantages[index].received { vantages[index].rate.sample(received, at: now) }
        }
    }

    private func since(_ name: String) -> Double {
        vantages.first { $0.name == name }?.since ?? resolveStarted
    }

    private mutating func set(_ name: String, _ state: VantageState) {
        if let index = vantages.firstIndex(where: { $0.name == name }) {
            vantages[index].state = state
        } else {
            vantages.append(Vantage(name: name, state: state, since: resolveStarted))
        }
    }

    /// Bytes verified or on disk so far.
    var doneBytes: Int64 { finishedBytes + layers.reduce(0) { $0 + $1.bytes } }

    /// The downloads' rate: the recent one, or the average since they began before there is one
    /// (of the bytes that came since: a layer half-brought before the plan did not come in no time).
    func downloadRate(now: Double) -> Double {
        overallRate.rate(or: Double(max(0, doneBytes - bytesAtPlan)) / max(0.001, now - downloadStarted))
    }
}

/// The display's decisions: from a `ProgressState` to lines. No I/O, no clock.
enum ProgressView {
    /// Layers in flight shown one per line; more are counted on one line (the block stays short).
    static let maximumLayerLines = 8

    /// Vantages shown one per line while they resolve; in a larger set the answered ones are counted.
    static let maximumVantageLines = 12

    /// The block redrawn in place on a terminal: the vantages while they resolve (the one still
    /// waited for says so; one downloading the subject itself shows its bytes, rate and ETA),
    /// then one line per layer in flight and the overall line with the ETA. Every line fits in
    /// `width` columns.
    static func live(_ state: ProgressState, width: Int, now: Double) -> [String] {
        var lines: [String] = []
        switch state.phase {
        case .idle, .writing:
            return []
        case .resolving:
            var shown = state.vantages
            var answered = 0
            if shown.count > maximumVantageLines {
                // Those still waited for first; the answered ones are on the step lines above.
                let open = shown.filter { $0.state == .waiting }
                let closed = shown.filter { $0.state != .waiting }
                shown = Array((open + closed).prefix(maximumVantageLines - 1))
                answered = state.vantages.count - shown.count
            }
            let nameWidth = shown.map { clean($0.name).count }.max() ?? 0
            for vantage in shown {
                let label = "  " + clean(vantage.name).padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                switch vantage.state {
                case .waiting:
                    if let received = vantage.received {
                        lines.append(label + "downloading " + transfer(received, of: vantage.expected, rate: vantageRate(vantage, now: now), separator: "  "))
                    } else {
                        lines.append(label + "waiting for an answer… \(seconds(now - vantage.since))")
                    }
                case .answered(let digest, let taken): lines.append(label + "answered in \(seconds(taken))  \(shortDigest(digest))")
                case .failed(let message, let taken): lines.append(label + "failed after \(seconds(taken)): \(clean(message))")
                }
            }
            if answered > 0 { lines.append("  … and \(answered) more answered") }
        case .downloading:
            for layer in state.layers.prefix(maximumLayerLines) {
                let rate = layer.rate.rate(or: Double(layer.bytes) / max(0.001, now - layer.started))
                lines.append(
                    "  \(shortDigest(layer.digest))  \(bytes(layer.bytes)) / \(bytes(layer.size))  \(percent(layer.bytes, of: layer.size))  \(bytes(Int64(rate)))/s")
            }
            if state.layers.count > maximumLayerLines {
                lines.append("  … and \(count(state.layers.count - maximumLayerLines, "more layer")) in flight")
            }
            let done = state.doneBytes
            let rate = state.downloadRate(now: now)
            var overall = "\(state.finishedCount)/\(state.plannedCount) layers  \(bytes(done)) / \(bytes(state.plannedBytes))  "
                + "\(percent(done, of: state.plannedBytes))  \(bytes(Int64(rate)))/s"
            if let eta = eta(remaining: state.plannedBytes - done, rate: rate) { overall += "  ETA \(eta)" }
            lines.append(overall)
        }
        return lines.map { fit($0, width: width) }
    }

    /// A step-by-step log's periodic lines (stderr not a terminal): the vantages still waited for
    /// (each one downloading the subject itself with its share), and each layer in flight with
    /// its share and rate.
    static func periodic(_ state: ProgressState, now: Double) -> [String] {
        switch state.phase {
        case .idle, .writing:
            return []
        case .resolving:
            let open = state.vantages.filter { $0.state == .waiting }
            var lines = open.compactMap { vantage in
                vantage.received.map { "vantage \(clean(vantage.name)) " + transfer($0, of: vantage.expected, rate: vantageRate(vantage, now: now), separator: " ") }
            }
            let waiting = open.filter { $0.received == nil }.map { clean($0.name) }
            if !waiting.isEmpty {
                lines.append("waiting for \(waiting.joined(separator: ", ")) (\(seconds(now - (open.map(\.since).min() ?? state.resolveStarted))))")
            }
            return lines
        case .downloading:
            let done = state.doneBytes
            let rate = state.downloadRate(now: now)
            var lines = state.layers.map { layer in
                let layerRate = layer.rate.rate(or: Double(layer.bytes) / max(0.001, now - layer.started))
                return "layer \(shortDigest(layer.digest)) \(percent(layer.bytes, of: layer.size)) \(bytes(layer.bytes)) / \(bytes(layer.size)) \(bytes(Int64(layerRate)))/s"
            }
            var overall = "\(state.finishedCount)/\(state.plannedCount) layers \(bytes(done)) / \(bytes(state.plannedBytes)) \(percent(done, of: state.plannedBytes))"
            if let eta = eta(remaining: state.plannedBytes - done, rate: rate) { overall += " ETA \(eta)" }
            lines.append(overall)
            return lines
        }
    }

    /// A vantage's download rate: the recent one, or its average so far.
    static func vantageRate(_ vantage: ProgressState.Vantage, now: Double) -> Double {
        vantage.rate.rate(or: Double(vantage.received ?? 0) / max(0.001, now - vantage.since))
    }

    /// `12.3 MB / 50.0 MB  24%  5.1 MB/s  ETA 0:07`, or `12.3 MB  5.1 MB/s` when no length was announced.
    static func transfer(_ received: Int64, of expected: Int64?, rate: Double, separator: String) -> String {
        guard let expected, expected > 0 else { return [bytes(received), "\(bytes(Int64(rate)))/s"].joined(separator: separator) }
        var parts = ["\(bytes(received)) / \(bytes(expected))", percent(received, of: expected), "\(bytes(Int64(rate)))/s"]
        if let eta = eta(remaining: expected - received, rate: rate) { parts.append("ETA \(eta)") }
        return parts.joined(separator: separator)
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
