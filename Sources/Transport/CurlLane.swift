import CCurl
import Dispatch
import Foundation

/// One libcurl easy handle and the serial queue it is used on. A lane serves one transfer at a
/// time (the `LanePool` hands it out exclusively), and every libcurl call on its handle happens on
/// its queue, so the handle is never touched by two threads at once. Reusing the handle keeps its
/// connection cache, so consecutive requests to one host share a connection.
final class CurlLane: @unchecked Sendable {
    let queue: DispatchQueue
    /// Replaced after a failed transfer (see `renewHandle`).
    private var handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let errorBufferSize: Int
    /// The handle's open connections; freed after the handle, whose cleanup closes them.
    private let sockets: UnsafeMutablePointer<tofu_socket_set>
    /// Certificate fingerprints per origin, for requests that reuse a connection (no handshake,
    /// so libcurl reports no chain). Only touched on `queue`.
    private var certificatesByOrigin: [String: [String]] = [:]

    /// libcurl's receive buffer (`CURLOPT_BUFFERSIZE`).
    static let receiveBufferSize = 512 * 1024

    init(label: String) throws {
        guard let handle = curl_easy_init() else {
            throw TransportError(configuration: "libcurl could not create an easy handle (out of memory?)")
        }
        self.handle = handle
        self.queue = DispatchQueue(label: label)
        self.errorBufferSize = max(Int(tofu_error_buffer_size()), 256)
        self.errorBuffer = .allocate(capacity: errorBufferSize)
        errorBuffer.initialize(repeating: 0, count: errorBufferSize)
        self.sockets = .allocate(capacity: 1)
        tofu_socket_set_init(sockets)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
        tofu_socket_set_destroy(sockets)
        sockets.deallocate()
    }

    /// From any thread: the running transfer's connections are shut down, so a transfer waiting
    /// for bytes ends at once (its cancellation flag set first makes that a cancellation).
    func interrupt() {
        tofu_socket_set_interrupt(sockets)
    }

    /// Runs one exchange to completion. Call only on `queue`.
    func perform(
        _ request: HTTPRequest,
        into destination: BodyDestination,
        settings: CurlSettings,
        cancellation: CancellationFlag,
        progress: TransferProgress? = nil
    ) -> Result<HTTPResponse, any Error> {
        dispatchPrecondition(condition: .onQueue(queue))
        let shownURL = URLRedaction.removingUserInfo(request.url)
        var lists = OptionLists()
        defer { lists.free() }
        var context = CurlTransferContext(handle: handle, sockets: sockets, request: request, destination: destination, cancellation: cancellation, progress: progress)
        var failedOption = configure(request, destination: destination, settings: settings, context: context, lists: &lists)
        if failedOption != nil {
            // A handle in a state libcurl does not reset (one whose transfer failed before it ended
            // properly keeps its receive buffer, and BUFFERSIZE is then refused): start afresh.
            renewHandle()
            lists.free()
            context = CurlTransferContext(handle: handle, sockets: sockets, request: request, destination: destination, cancellation: cancellation, progress: progress)
            failedOption = configure(request, destination: destination, settings: settings, context: context, lists: &lists)
        }
        if let failedOption {
            return .failure(TransportError(
                kind: .other, url: shownURL,
                detail: "libcurl rejected the option \(failedOption); this libcurl may be too old (7.85 or newer is needed)"))
        }
        return transfer(request, destination: destination, settings: settings, context: context, shownURL: shownURL)
    }

    /// The lists a transfer's options point to; they must live until the transfer ends.
    private struct OptionLists {
        var headers: UnsafeMutablePointer<curl_slist>?
        var resolve: UnsafeMutablePointer<curl_slist>?
        mutating func free() {
            curl_slist_free_all(headers)
            curl_slist_free_all(resolve)
            headers = nil
            resolve = nil
        }
    }

    /// A fresh easy handle in place of the current one (whose cleanup closes its connections).
    private func renewHandle() {
        guard let fresh = curl_easy_init() else { return }
        curl_easy_cleanup(handle)
        handle = fresh
        certificatesByOrigin = [:]
    }

    /// Sets every option of one transfer on the handle; the first option libcurl refused, if any.
    private func configure(
        _ request: HTTPRequest, destination: BodyDestination, settings: CurlSettings, context: CurlTransferContext, lists: inout OptionLists
    ) -> String? {
        curl_easy_reset(handle)
        tofu_socket_set_rearm(sockets)
        errorBuffer.update(repeating: 0, count: errorBufferSize)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        let handle = self.handle

        var failedOption: String?
        func set(_ name: String, _ code: CURLcode) {
            if code != CURLE_OK, failedOption == nil { failedOption = "\(name): \(String(cString: curl_easy_strerror(code)))" }
        }
        let configuration = settings.configuration
        set("ERRORBUFFER", tofu_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set("URL", tofu_setopt_string(handle, CURLOPT_URL, request.url))
        set("NOSIGNAL", tofu_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set("PROTOCOLS_STR", tofu_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set("REDIR_PROTOCOLS_STR", tofu_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        set("FOLLOWLOCATION", tofu_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        set("UNRESTRICTED_AUTH", tofu_setopt_long(handle, CURLOPT_UNRESTRICTED_AUTH, 0))
        set("PROXY", tofu_setopt_string(handle, CURLOPT_PROXY, settings.proxyOption))
        set("NOPROXY", tofu_setopt_string(handle, CURLOPT_NOPROXY, ""))
        set("SUPPRESS_CONNECT_HEADERS", tofu_setopt_long(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        set("SSL_VERIFYPEER", tofu_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        set("SSL_VERIFYHOST", tofu_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        set("PROXY_SSL_VERIFYPEER", tofu_setopt_long(handle, CURLOPT_PROXY_SSL_VERIFYPEER, 1))
        set("PROXY_SSL_VERIFYHOST", tofu_setopt_long(handle, CURLOPT_PROXY_SSL_VERIFYHOST, 2))
        // A full handshake on every new connection, so the certificate chain is always reported.
        set("SSL_SESSIONID_CACHE", tofu_setopt_long(handle, CURLOPT_SSL_SESSIONID_CACHE, 0))
        set("CERTINFO", tofu_setopt_long(handle, CURLOPT_CERTINFO, 1))
        set("HTTP_VERSION", tofu_setopt_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)))
        set("CONNECTTIMEOUT_MS", tofu_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int((configuration.connectTimeout * 1000).rounded())))
        set("LOW_SPEED_LIMIT", tofu_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, configuration.lowSpeedLimit))
        set("LOW_SPEED_TIME", tofu_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, configuration.lowSpeedTime))
        set("TCP_KEEPALIVE", tofu_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        set("SOCKOPTFUNCTION", tofu_setopt_socket_set(handle, sockets))
        set("USERAGENT", tofu_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent))
        // Bigger reads than libcurl's 16 KiB: a blob body arrives in a thirtieth of the callbacks,
        // writes and hash updates (512 KiB per lane in use).
        set("BUFFERSIZE", tofu_setopt_long(handle, CURLOPT_BUFFERSIZE, Self.receiveBufferSize))
        // No CURLOPT_ACCEPT_ENCODING: bodies arrive exactly as sent, so their hashes are the digests.
        if let bundle = settings.caBundle {
            bundle.withUnsafeBytes { bytes in
                set("CAINFO_BLOB", tofu_setopt_blob(handle, CURLOPT_CAINFO_BLOB, bytes.baseAddress, bytes.count))
                set("PROXY_CAINFO_BLOB", tofu_setopt_blob(handle, CURLOPT_PROXY_CAINFO_BLOB, bytes.baseAddress, bytes.count))
            }
        }
        if !configuration.resolve.isEmpty {
            for entry in configuration.resolve {
                lists.resolve = curl_slist_append(lists.resolve, entry)
            }
            set("RESOLVE", tofu_setopt_slist(handle, CURLOPT_RESOLVE, lists.resolve))
        }

        switch request.method {
        case .get: set("HTTPGET", tofu_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case .head: set("NOBODY", tofu_setopt_long(handle, CURLOPT_NOBODY, 1))
        }
        for header in request.headers {
            // "Name;" is libcurl's way to send a header with an empty value.
            let line = header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
            lists.headers = curl_slist_append(lists.headers, line)
        }
        if lists.headers != nil {
            set("HTTPHEADER", tofu_setopt_slist(handle, CURLOPT_HTTPHEADER, lists.headers))
        }
        if let start = request.rangeStart {
            set("RANGE", tofu_setopt_string(handle, CURLOPT_RANGE, "\(start)-"))
        }
        if case .memory(let limit) = destination, request.method == .get {
            set("MAXFILESIZE_LARGE", tofu_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(limit)))
        }

        set("WRITEDATA", tofu_setopt_pointer(handle, CURLOPT_WRITEDATA, contextPointer))
        set("WRITEFUNCTION", tofu_setopt_write_cb(handle) { buffer, size, count, userdata in
            guard let userdata else { return 0 }
            let context = Unmanaged<CurlTransferContext>.fromOpaque(userdata).takeUnretainedValue()
            let total = size * count
            return context.receiveBody(UnsafeRawBufferPointer(start: buffer, count: total)) ? total : 0
        })
        set("HEADERDATA", tofu_setopt_pointer(handle, CURLOPT_HEADERDATA, contextPointer))
        set("HEADERFUNCTION", tofu_setopt_header_cb(handle) { buffer, size, count, userdata in
            guard let userdata else { return 0 }
            let context = Unmanaged<CurlTransferContext>.fromOpaque(userdata).takeUnretainedValue()
            let total = size * count
            context.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: total))
            return total
        })
        set("XFERINFODATA", tofu_setopt_pointer(handle, CURLOPT_XFERINFODATA, contextPointer))
        set("XFERINFOFUNCTION", tofu_setopt_xferinfo_cb(handle) { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            let context = Unmanaged<CurlTransferContext>.fromOpaque(userdata).takeUnretainedValue()
            context.progressTick()
            return context.cancellation.isCancelled ? 1 : 0
        })
        set("NOPROGRESS", tofu_setopt_long(handle, CURLOPT_NOPROGRESS, 0))

        return failedOption
    }

    /// Performs the configured transfer and turns its outcome into a response or an error.
    private func transfer(
        _ request: HTTPRequest, destination: BodyDestination, settings: CurlSettings, context: CurlTransferContext, shownURL: String
    ) -> Result<HTTPResponse, any Error> {
        let cancellation = context.cancellation
        let code = withExtendedLifetime(context) { curl_easy_perform(handle) }
        context.restoreLowWater()

        // Aborted by the progress callback, or woken by `interrupt` (an error, or an end of file
        // that may look like the end of a body without a length): a cancellation either way.
        if cancellation.isCancelled {
            context.closeFile()
            return .failure(CancellationError())
        }
        guard code == CURLE_OK else {
            context.closeFile()
            var error = CurlErrorMapping.error(CurlErrorMapping.Facts(
                code: code,
                errorText: String(cString: errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines),
                url: shownURL,
                proxyRoute: settings.proxyRoute,
                proxyConnectStatus: longInfo(CURLINFO_HTTP_CONNECTCODE) ?? 0,
                callbackFailure: context.failure ?? memoryCapFailure(code, destination)
            ))
            var evidence = collectEvidence(headers: context.headers)
            if code == CURLE_PEER_FAILED_VERIFICATION, let url = stringInfo(CURLINFO_EFFECTIVE_URL) {
                // What the route showed, recorded over a connection of its own that sends nothing.
                let shown = UntrustedCertificates.record(url: url, address: evidence.remoteIP, settings: settings, cancellation: cancellation)
                evidence.untrustedCertificates = shown.isEmpty ? nil : shown
            }
            error.evidence = evidence
            return .failure(error)
        }
        context.finish()
        if let failure = context.failure {
            return .failure(CurlErrorMapping.error(CurlErrorMapping.Facts(
                code: CURLE_WRITE_ERROR, errorText: "", url: shownURL, proxyRoute: settings.proxyRoute,
                proxyConnectStatus: 0, callbackFailure: failure)))
        }

        let status = longInfo(CURLINFO_RESPONSE_CODE) ?? context.statusLineCode
        let evidence = collectEvidence(headers: context.headers)
        return .success(HTTPResponse(
            status: status,
            headers: context.headers,
            body: context.body,
            bodySHA256: context.bodySHA256Hex,
            bodyLength: context.bodyLength,
            evidence: evidence
        ))
    }

    /// libcurl refused a body whose announced length exceeds `CURLOPT_MAXFILESIZE_LARGE`.
    private func memoryCapFailure(_ code: CURLcode, _ destination: BodyDestination) -> ResponseBodySink.Failure? {
        guard code == CURLE_FILESIZE_EXCEEDED, case .memory(let limit) = destination else { return nil }
        return .bodyTooLarge(limit: limit)
    }

    // MARK: evidence

    private func collectEvidence(headers: HTTPHeaders) -> TransportEvidence {
        let effectiveURL = stringInfo(CURLINFO_EFFECTIVE_URL)
        var certificates = CertificateFingerprints.read(from: handle)
        if let origin = effectiveURL.flatMap(Self.origin), origin.hasPrefix("https://") {
            let newConnections = longInfo(CURLINFO_NUM_CONNECTS) ?? 0
            if newConnections > 0, !certificates.isEmpty {
                certificatesByOrigin[origin] = certificates
            } else if newConnections == 0, let known = certificatesByOrigin[origin] {
                certificates = known
            }
        }
        return TransportEvidence(
            remoteIP: stringInfo(CURLINFO_PRIMARY_IP).flatMap { $0.isEmpty ? nil : $0 },
            effectiveURL: effectiveURL.map(URLRedaction.removingUserInfo),
            certificateSHA256: certificates,
            httpVersion: httpVersion(),
            timings: TransportEvidence.Timings(
                nameLookup: seconds(CURLINFO_NAMELOOKUP_TIME_T),
                connect: seconds(CURLINFO_CONNECT_TIME_T),
                tlsHandshake: seconds(CURLINFO_APPCONNECT_TIME_T),
                firstByte: seconds(CURLINFO_STARTTRANSFER_TIME_T),
                total: seconds(CURLINFO_TOTAL_TIME_T)
            ),
            rateLimit: TransportEvidence.rateLimitFields(in: headers)
        )
    }

    /// "scheme://host:port" of a URL, the key libcurl's connection reuse works by.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased()
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }

    private func httpVersion() -> String? {
        guard let version = longInfo(CURLINFO_HTTP_VERSION) else { return nil }
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): return "1.0"
        case Int(CURL_HTTP_VERSION_1_1): return "1.1"
        case Int(CURL_HTTP_VERSION_2_0): return "2"
        case Int(CURL_HTTP_VERSION_3): return "3"
        default: return nil
        }
    }

    private func longInfo(_ info: CURLINFO) -> Int? {
        var value = 0
        return tofu_getinfo_long(handle, info, &value) == CURLE_OK ? value : nil
    }

    private func stringInfo(_ info: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>?
        guard tofu_getinfo_string(handle, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    private func seconds(_ info: CURLINFO) -> Double {
        var microseconds: curl_off_t = 0
        guard tofu_getinfo_off_t(handle, info, &microseconds) == CURLE_OK else { return 0 }
        return Double(microseconds) / 1_000_000
    }
}
