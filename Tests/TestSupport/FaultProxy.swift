import Foundation

/// A misbehaving front for a real registry: a small python3 reverse proxy on 127.0.0.1 that
/// forwards every request to `upstream` (a plain-HTTP `RegistryServer`) and, on demand, breaks
/// the exchange in ways a real registry will not do when asked: 5xx for the first N requests,
/// 429 with Retry-After, a spurious 401, a body cut off half way, Range ignored, a redirect loop
/// or a redirect to ftp://, a stalled body, or (as a CDN) a refusal of requests carrying
/// `Authorization`. Faults are set with `inject(_:)` at any time; each applies to the first
/// `times` matching requests. Every request is logged with the fault it got.
public final class FaultProxy: Sendable {
    /// One kind of misbehaviour.
    public enum Action: Sendable {
        /// Answer with `status` (and `headers`) instead of forwarding.
        case status(Int, headers: [String: String] = [:])
        /// Forward, announce the full Content-Length, send `fraction` of the body, close the connection.
        case cutBody(fraction: Double)
        /// Forward without the request's Range header: the whole body comes back with 200.
        case ignoreRange
        /// Forward; when the request asked for a range and got a 206, flip the body's first byte
        /// (a route that corrupts the tail of a blob split over two routes).
        case flipRangedByte
        /// 302 to the very same URL.
        case redirectLoop
        /// 302 to `location`.
        case redirect(location: String)
        /// Forward, send `afterBytes` of the body, then send nothing for `seconds` and close.
        case stall(afterBytes: Int, seconds: Double)
        /// Requests carrying Authorization get 400 (as S3-style CDNs answer a second auth mechanism).
        case rejectAuthorization
        /// Forward (or serve the file), then send `extra` more bytes after the real body: a body
        /// longer than its digest's size, or (with a huge `extra`) one that does not end. With
        /// `announce` the Content-Length counts them; without, there is none and the body ends
        /// when the connection closes. How much went out is in `bytesSent()`.
        case padBody(extra: Int, announce: Bool)

        var json: [String: Any] {
            switch self {
            case .status(let code, let headers): ["kind": "status", "status": code, "headers": headers]
            case .cutBody(let fraction): ["kind": "cut", "fraction": fraction]
            case .ignoreRange: ["kind": "ignore-range"]
            case .flipRangedByte: ["kind": "flip-ranged"]
            case .redirectLoop: ["kind": "redirect-loop"]
            case .redirect(let location): ["kind": "redirect", "location": location]
            case .stall(let afterBytes, let seconds): ["kind": "stall", "after": afterBytes, "seconds": seconds]
            case .rejectAuthorization: ["kind": "reject-auth"]
            case .padBody(let extra, let announce): ["kind": "pad", "extra": extra, "announce": announce]
            }
        }
    }

    /// `action` for the first `times` requests (`nil`: all) whose path matches the regular
    /// expression `path` (python `re.search`), whose method is `method` (nil: any) and, with
    /// `range`, whose Range header matches that regular expression ("" when there is none:
    /// `"^$"` picks the requests without a range, `"^bytes=100-$"` a resume from byte 100).
    public struct Fault: Sendable {
        public var path: String
        public var method: String?
        public var range: String?
        public var times: Int?
        public var action: Action

        public init(path: String, method: String? = "GET", range: String? = nil, times: Int? = 1, _ action: Action) {
            self.path = path
            self.method = method
            self.range = range
            self.times = times
            self.action = action
        }
    }

    /// One request as the proxy saw it.
    public struct Request: Sendable, Equatable {
        public var method: String
        public var path: String
        /// The fault applied ("-" when forwarded untouched).
        public var fault: String
        public var range: String?
        public var hadAuthorization: Bool

        /// N of a Range "bytes=N-" (the one form 3tofu sends); nil for none or another form.
        public var rangeStart: Int? {
            guard let range, range.hasPrefix("bytes="), range.hasSuffix("-") else { return nil }
            return Int(range.dropFirst("bytes=".count).dropLast())
        }
    }

    public let port: Int
    /// "127.0.0.1:PORT", the registry host to put in references and `--insecure-registry`.
    public let host: String
    public var baseURL: String { "http://\(host)" }
    public let process: ManagedProcess
    private let configPath: String
    private let requestLogPath: String
    private let sentLogPath: String
    private let directory: TemporaryDirectory

    /// Starts the proxy in front of `upstream` ("http://127.0.0.1:PORT"; nil: no upstream, only
    /// `serveFiles`). `serveFiles` serves paths under it from a directory (a CDN for the registry's
    /// storage: the registry's `redirectBlobs` points here, and `root` is its storage path).
    public init(upstream: String?, serveFiles root: String? = nil) async throws {
        let directory = try TemporaryDirectory(prefix: "faultproxy")
        let script = directory.file("faultproxy.py")
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        configPath = directory.file("faults.json")
        requestLogPath = directory.file("requests.log")
        sentLogPath = directory.file("sent.log")
        _ = FileManager.default.createFile(atPath: requestLogPath, contents: nil)
        self.directory = directory
        try Self.writeConfiguration([], to: configPath)
        var started: (Int, ManagedProcess)?
        var lastError: Error?
        for _ in 0..<3 where started == nil {
            let port = try FreePort.pick()
            let process = try ManagedProcess(
                executable: try Shell.resolveExecutable("python3"),
                arguments: [script, String(port), upstream ?? "", root ?? "", configPath, requestLogPath, sentLogPath],
                logPath: directory.file("proxy-\(port).log"))
            do {
                try await process.waitForPort(port)
                started = (port, process)
            } catch {
                process.stop()
                lastError = error
            }
        }
        guard let (port, process) = started else {
            throw lastError ?? FixtureError("the fault proxy did not start")
        }
        self.port = port
        self.host = "127.0.0.1:\(port)"
        self.process = process
    }

    /// Replaces the active faults (counters start again from zero).
    public func inject(_ faults: [Fault]) throws {
        try Self.writeConfiguration(faults, to: configPath)
    }

    private static func writeConfiguration(_ faults: [Fault], to configPath: String) throws {
        let entries: [[String: Any]] = faults.map { fault in
            var entry: [String: Any] = ["path": fault.path, "action": fault.action.json]
            if let method = fault.method { entry["method"] = method }
            if let range = fault.range { entry["range"] = range }
            if let times = fault.times { entry["times"] = times }
            return entry
        }
        let data = try JSONSerialization.data(withJSONObject: ["generation": UUID().uuidString, "faults": entries])
        let temporary = configPath + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, configPath) == 0 else {
            throw FixtureError("could not install the fault configuration at \(configPath): errno \(errno)")
        }
    }

    /// Every request so far, in order.
    public func requests() -> [Request] {
        let text = (try? String(contentsOfFile: requestLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 4).map(String.init)
            guard parts.count == 5 else { return nil }
            return Request(method: parts[0], path: parts[4], fault: parts[1], range: parts[2] == "-" ? nil : parts[2], hadAuthorization: parts[3] == "auth")
        }
    }

    /// Requests that got a fault.
    public func faultsApplied() -> [Request] { requests().filter { $0.fault != "-" } }

    /// For every `padBody` response that has ended: its path and how many body bytes (real and
    /// padding) went out before the client went away or the padding was all sent.
    public func bytesSent() -> [(path: String, bytes: Int)] {
        let text = (try? String(contentsOfFile: sentLogPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let bytes = Int(parts[0]) else { return nil }
            return (String(parts[1]), bytes)
        }
    }

    public func log() -> String { process.log() }

    public func stop() { process.stop() }

    deinit { stop() }

    private static let script = #"""
        import http.client, http.server, json, os, re, sys, threading, time, urllib.parse
        port, upstream, files, config_path, log_path, sent_path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
        up = urllib.parse.urlsplit(upstream) if upstream else None
        lock = threading.Lock()
        state = {"generation": None, "faults": [], "used": []}
        HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}

        def pick(method, path, rng):
            with lock:
                try:
                    with open(config_path) as f:
                        config = json.load(f)
                except Exception:
                    config = {"generation": None, "faults": []}
                if config.get("generation") != state["generation"]:
                    state.update(generation=config.get("generation"), faults=config.get("faults", []), used=[0] * len(config.get("faults", [])))
                for i, fault in enumerate(state["faults"]):
                    if fault.get("method") not in (None, method):
                        continue
                    if not re.search(fault["path"], path):
                        continue
                    if "range" in fault and not re.search(fault["range"], rng):
                        continue
                    times = fault.get("times")
                    if times is not None and state["used"][i] >= times:
                        continue
                    state["used"][i] += 1
                    return fault["action"]
            return None

        def record(method, path, fault, headers):
            line = "%s %s %s %s %s\n" % (method, fault, (headers.get("Range") or "-").replace(" ", ""),
                                         "auth" if headers.get("Authorization") else "none", path)
            with lock:
                with open(log_path, "a") as f:
                    f.write(line)

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args):
                pass

            def answer(self, status, headers=None, body=b""):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.close_connection = True

            def handle_any(self):
                action = pick(self.command, self.path, (self.headers.get("Range") or "").replace(" ", ""))
                kind = action["kind"] if action else "-"
                record(self.command, self.path, kind, self.headers)
                if kind == "status":
                    body = json.dumps({"errors": [{"code": "FAULT", "message": "injected HTTP %d" % action["status"]}]}).encode()
                    headers = {"Content-Type": "application/json"}
                    headers.update(action.get("headers", {}))
                    return self.answer(action["status"], headers, body)
                if kind == "redirect-loop":
                    return self.answer(302, {"Location": "http://%s%s" % (self.headers.get("Host"), self.path)})
                if kind == "redirect":
                    return self.answer(302, {"Location": action["location"]})
                if kind == "reject-auth" and self.headers.get("Authorization"):
                    body = b"<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>"
                    return self.answer(400, {"Content-Type": "application/xml"}, body)
                if files and not up:
                    return self.serve_file(action)
                self.forward(action)

            def serve_file(self, action):
                path = os.path.normpath(os.path.join(files, urllib.parse.urlsplit(self.path).path.lstrip("/")))
                if not path.startswith(files) or not os.path.isfile(path):
                    return self.answer(404, {}, b"not found")
                with open(path, "rb") as f:
                    data = f.read()
                if action and action["kind"] == "pad":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    if action["announce"]:
                        self.send_header("Content-Length", str(len(data) + action["extra"]))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    return self.send_padded([data], action)
                self.answer(200, {"Content-Type": "application/octet-stream"}, data)

            def send_padded(self, pieces, action):
                # The real body (an iterable of chunks), then `extra` filler bytes; what went out is logged.
                sent = 0
                try:
                    for piece in pieces:
                        self.wfile.write(piece)
                        sent += len(piece)
                    filler = b"\0" * 65536
                    left = action["extra"]
                    while left > 0:
                        n = min(left, len(filler))
                        self.wfile.write(filler[:n])
                        sent += n
                        left -= n
                    self.wfile.flush()
                except OSError:
                    pass
                with lock:
                    with open(sent_path, "a") as f:
                        f.write("%d %s\n" % (sent, self.path))

            def forward(self, action):
                kind = action["kind"] if action else "-"
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                if kind == "ignore-range":
                    headers.pop("Range", None)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                self.send_response(resp.status)
                pad = kind == "pad" and 200 <= resp.status < 300 and self.command != "HEAD"
                for name, value in resp.getheaders():
                    if name.lower() not in HOP and not (pad and name.lower() == "content-length"):
                        self.send_header(name, value)
                if pad and action["announce"]:
                    self.send_header("Content-Length", str(int(resp.getheader("Content-Length") or 0) + action["extra"]))
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if self.command == "HEAD":
                    return
                if pad:
                    self.send_padded(iter(lambda: resp.read(65536), b""), action)
                    return conn.close()
                total = int(resp.getheader("Content-Length") or 0)
                limit = None
                if kind == "cut":
                    limit = int(total * action["fraction"])
                elif kind == "stall":
                    limit = action["after"]
                sent = 0
                flip = kind == "flip-ranged" and self.headers.get("Range") and resp.status == 206
                while True:
                    want = 65536 if limit is None else min(65536, limit - sent)
                    if want <= 0:
                        break
                    chunk = resp.read(want)
                    if not chunk:
                        break
                    if flip and sent == 0:
                        chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                    self.wfile.write(chunk)
                    sent += len(chunk)
                self.wfile.flush()
                if kind == "stall":
                    time.sleep(action["seconds"])
                conn.close()

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            def handle_error(self, request, client_address):
                pass

        Server(("127.0.0.1", port), Handler).serve_forever()
        """#
}
