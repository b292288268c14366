import CCurl
import Crypto
import Foundation

/// The state of one transfer that libcurl's callbacks write into. Created, used and dropped on a
/// lane's queue; callbacks reach it through an `Unmanaged` pointer (they capture nothing).
final class CurlTransferContext {
    /// Why a callback stopped the transfer.
    enum Failure: Equatable {
        case bodyTooLarge(limit: Int)
        /// A 2xx body announced (`announced`) or ran past the request's `BodyLimit`.
        case pastBodyLimit(BodyLimit, announced: Int64?)
        case fileOpen(path: String, errno: Int32)
        case fileWrite(path: String, errno: Int32)
    }

    /// Where body bytes go once the status is known.
    private enum Sink {
        case memory(limit: Int)
        case file(DownloadFile)
        case cappedMemory(cap: Int)
        case nothing
    }

    /// Non-2xx bodies kept for `.file` and `.discard` destinations, so errors can be read.
    static let errorBodyCap = 64 * 1024

    let destination: BodyDestination
    let cancellation: CancellationFlag
    /// The request, for its `maximumBodyLength` and `rangeStart`.
    private let request: HTTPRequest
    /// The limit on this response's body, once its status is known.
    private var limit: BodyLimit?
    private let handle: UnsafeMutableRawPointer
    /// The handle's open connections (owned by the lane).
    private let sockets: UnsafePointer<tofu_socket_set>
    private var sink: Sink?
    private(set) var hasher = SHA256()
    private(set) var bodyLength: Int64 = 0
    private(set) var body = Data()
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

    init(
        handle: UnsafeMutableRawPointer, sockets: UnsafePointer<tofu_socket_set>, request: HTTPRequest, destination: BodyDestination,
        cancellation: CancellationFlag
    ) {
        self.handle = handle
        self.request = request
        self.sockets = sockets
        self.destination = destination
        self.cancellation = cancellation
    }

    deinit {
        closeFile()
    }

    /// Writes out what the file writer still buffers (also after a failed transfer, so a resume
    /// starts from every byte received) and closes the file.
    func closeFile() {
        guard case .file(let file)? = sink else { return }
        do {
            try file.finish()
        } catch {
            if failure == nil { failure = .fileWrite(path: file.path, errno: error.code) }
        }
    }

    var bodySHA256Hex: String {
        hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

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
        if sink == nil {
            limit = responseCode().flatMap { BodyLimit(request: request, status: $0) }
            if let limit, let announced = BodyLimit.announcedLength(contentLength: headers["content-length"], transferEncoding: headers["transfer-encoding"]),
                limit.refuses(announced: announced)
            {
                failure = .pastBodyLimit(limit, announced: announced)
                return false
            }
            sink = chooseSink()
            lowWaterPlan = ReceiveLowWater.applies(
                isHTTP1: isHTTP1, contentLength: headers["content-length"], transferEncoding: headers["transfer-encoding"]
            ).map(ReceiveLowWater.init(announcedLength:))
        }
        guard let sink else { return false }
        if failure != nil { return false }
        if let limit, limit.refuses(received: bodyLength, adding: bytes.count) {
            failure = .pastBodyLimit(limit, announced: nil)
            return false
        }
        switch sink {
        case .memory(let limit):
            if body.count + bytes.count > limit {
                failure = .bodyTooLarge(limit: limit)
                return false
            }
            body.append(contentsOf: bytes)
        case .file(let file):
            do {
                try file.write(bytes)
            } catch {
                failure = .fileWrite(path: file.path, errno: error.code)
                return false
            }
        case .cappedMemory(let cap):
            let room = max(0, cap - body.count)
            if room > 0 {
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes.prefix(room)))
            }
        case .nothing:
            break
        }
        hasher.update(bufferPointer: bytes)
        bodyLength += Int64(bytes.count)
        if var plan = lowWaterPlan {
            let mark = plan.arrived(total: bodyLength, at: Self.now())
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
        if case .file = destination, sink == nil, failure == nil {
            sink = chooseSink()
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

    private func chooseSink() -> Sink? {
        let code = responseCode()
        let isSuccess = code.map { (200..<300).contains($0) } ?? false
        switch destination {
        case .memory(let limit):
            return .memory(limit: limit)
        case .discard:
            return isSuccess ? .nothing : .cappedMemory(cap: Self.errorBodyCap)
        case .file(let path, let tap):
            guard isSuccess, let code else { return .cappedMemory(cap: Self.errorBodyCap) }
            do {
                return .file(try DownloadFile(path: path, status: code, tap: tap))
            } catch {
                failure = .fileOpen(path: path, errno: error.code)
                return nil
            }
        }
    }
}
