import CCurl
import Foundation

/// The state of one transfer that libcurl's callbacks write into. Created, used and dropped on a
/// lane's queue; callbacks reach it through an `Unmanaged` pointer (they capture nothing).
final class CurlTransferContext {
    /// Why a callback stopped the transfer.
    typealias Failure = ResponseBodySink.Failure

    let cancellation: CancellationFlag
    private let handle: UnsafeMutableRawPointer
    /// The handle's open connections (owned by the lane).
    private let sockets: UnsafePointer<tofu_socket_set>
    /// Where the body goes, hashed and held to the request's `BodyLimit` (shared with the SSH
    /// transports).
    private let sink: ResponseBodySink
    /// The status the body belongs to, once its first bytes arrived (0: unknown).
    private var bodyStatus: Int?
    var bodyLength: Int64 { sink.length }
    var body: Data { sink.body }
    private(set) var headers = HTTPHeaders()
    private(set) var statusLineCode = 0
    /// Whether the response is HTTP/1.x, whose body ends where Content-Length says (no framing
    /// or flow control of its own that could wait for us to read).
    private var isHTTP1 = false
    /// For a body large enough to read in big steps: how big (see `ReceiveLowWater`).
    private var lowWaterPlan: ReceiveLowWater?
    /// The receive low-water mark set on the connections now (1: unchanged).
    private var lowWater = 1
    private(set) var failure: Failure?

    /// Counts a 2xx body's bytes for a progress display (`TransferProgress.current` of the caller).
    private let progress: TransferProgress?

    init(
        handle: UnsafeMutableRawPointer, sockets: UnsafePointer<tofu_socket_set>, request: HTTPRequest, destination: BodyDestination,
        cancellation: CancellationFlag, progress: TransferProgress? = nil
    ) {
        self.progress = progress
        self.handle = handle
        self.sockets = sockets
        self.cancellation = cancellation
        self.sink = ResponseBodySink(request: request, destination: destination)
    }

    deinit {
        closeFile()
    }

    /// Writes out what the file writer still buffers (also after a failed transfer, so a resume
    /// starts from every byte received) and closes the file.
    func closeFile() {
        do throws(Failure) {
            try sink.closeFile()
        } catch {
            if failure == nil { failure = error }
        }
    }

    var bodySHA256Hex: String { sink.sha256Hex() }

    // MARK: headers

    /// One header line as libcurl delivers it (status lines, fields, the blank end line).
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new response starts (after 100-continue, or an interim response): forget the old fields.
            headers = HTTPHeaders()
            isHTTP1 = line.hasPrefix("HTTP/1.")
            let parts = line.split(separator: " ", maxSplits: 2)
            statusLineCode = parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
            // The rest of the response may come from a relay that holds each small piece until
            // the previous one is acknowledged: acknowledge without the usual delay.
            tofu_acknowledge_promptly(sockets)
            return
        }
        if line.isEmpty { return }
        if let first = line.first, first == " " || first == "\t" {
            // Obsolete line folding: continue the previous field.
            var fields = headers.fields
            if var last = fields.popLast() {
                last.value += " " + line.trimmingCharacters(in: .whitespaces)
                fields.append(last)
                headers = HTTPHeaders(fields)
            }
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        headers.append(name: name, value: value)
    }

    // MARK: body

    /// Takes body bytes; returns false to make libcurl abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if failure != nil { return false }
        do throws(Failure) {
            if bodyStatus == nil {
                let status = responseCode() ?? 0
                bodyStatus = status
                let announced = BodyLimit.announcedLength(contentLength: headers["content-length"], transferEncoding: headers["transfer-encoding"])
                try sink.checkAnnounced(announced, status: status)
                lowWaterPlan = ReceiveLowWater.applies(
                    isHTTP1: isHTTP1, contentLength: headers["content-length"], transferEncoding: headers["transfer-encoding"]
                ).map(ReceiveLowWater.init(announcedLength:))
                if (200..<300).contains(status) { progress?.begin(expected: announced) }
            }
            try sink.take(bytes, status: bodyStatus ?? 0)
            if let progress, (200..<300).contains(bodyStatus ?? 0) { progress.add(bytes.count) }
        } catch {
            failure = error
            return false
        }
        if var plan = lowWaterPlan {
            let mark = plan.arrived(total: sink.length, at: Self.now())
            lowWaterPlan = plan
            setLowWater(mark)
        }
        return true
    }

    /// libcurl's progress callback (at least once a second): a body that stopped coming is read
    /// byte by byte again, so what arrived below the mark is counted.
    func progressTick() {
        guard var plan = lowWaterPlan else { return }
        let mark = plan.tick(at: Self.now())
        lowWaterPlan = plan
        if let mark { setLowWater(mark) }
    }

    private static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// The connections go back to waking for every byte (after the transfer, however it ended:
    /// the next response on a kept connection may be short).
    func restoreLowWater() {
        setLowWater(1)
    }

    private func setLowWater(_ bytes: Int) {
        guard bytes != lowWater else { return }
        tofu_set_receive_low_water(sockets, Int32(bytes))
        lowWater = bytes
    }

    /// After a successful transfer: creates the destination file for a 2xx response that carried
    /// no body bytes, then closes the file.
    func finish() {
        if failure == nil {
            do throws(Failure) {
                try sink.finishEmptyBody(status: responseCode() ?? 0)
            } catch {
                failure = error
            }
        }
        closeFile()
    }

    private func responseCode() -> Int? {
        var code = 0
        guard tofu_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK, code > 0 else {
            return statusLineCode > 0 ? statusLineCode : nil
        }
        return code
    }
}
