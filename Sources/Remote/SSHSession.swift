import CSSH2
import Foundation
import Synchronization
import Transport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One authenticated libssh2 session over one TCP connection, shared by the exchanges of one
/// vantage: up to `maximumProcesses` of them run at once, each on a channel (a remote process) of
/// its own, from threads of their own (`SSHConnection`). libssh2 is not thread-safe, so every
/// libssh2 call on the session is made holding `lock`, which is released while a thread waits
/// for the socket or hands received bytes on (except while a channel starts, `start`).
///
/// `connect` refuses a host whose key is not in the known_hosts file, or differs from it, before
/// authenticating (so no credential is ever offered to an impostor).
final class SSHSession: @unchecked Sendable {
    let target: SSHTarget
    let hostKey: HostKey
    private let session: OpaquePointer
    private let socket: Int32
    /// Held for every libssh2 call on `session` and for `idle`.
    private let lock = NSLock()
    private let broken = Atomic<Bool>(false)
    /// Set once a socket-level error was seen; the session must then be replaced.
    private(set) var isBroken: Bool {
        get { broken.load(ordering: .acquiring) }
        set { broken.store(newValue, ordering: .releasing) }
    }

    private init(target: SSHTarget, session: OpaquePointer, socket: Int32, hostKey: HostKey) {
        self.target = target
        self.session = session
        self.socket = socket
        self.hostKey = hostKey
    }

    deinit {
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, 2000)
        if !isBroken {
            // The long-lived processes see the end of their input and exit (removing their scratch files).
            for channel in idle.values.flatMap({ $0 }) { _ = libssh2_channel_send_eof(channel) }
            _ = libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "3tofu done", "")
        }
        libssh2_session_free(session)
        close(socket)
    }

    // MARK: - Connecting

    /// Connects, verifies the host key against `target.knownHosts`, authenticates.
    static func connect(_ target: SSHTarget) throws -> SSHSession {
        try SSHGlobal.ensureInitialised()
        let fd = try openSocket(target)
        guard let session = tofu_ssh_session_init() else {
            close(fd)
            throw SSHError(.connect, "libssh2 could not create a session for \(target.route) (out of memory?)")
        }
        libssh2_session_set_blocking(session, 1)
        libssh2_session_set_timeout(session, Int(max(1, target.connectTimeout) * 1000))
        func fail(_ error: SSHError) -> SSHError {
            libssh2_session_free(session)
            close(fd)
            return error
        }
        if let text = try? String(contentsOfFile: target.knownHosts, encoding: .utf8) {
            let methods = KnownHostsFile.hostKeyMethods(for: KnownHostsFile.keyAlgorithms(in: text, host: target.host, port: target.port))
            if !methods.isEmpty {
                // Ask for a key type the file knows; if libssh2 supports none of them, keep its defaults.
                _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods.joined(separator: ","))
            }
        }
        if libssh2_session_handshake(session, fd) != 0 {
            throw fail(SSHError(.connect, "the SSH handshake with \(target.route) failed: \(lastError(session)); is an SSH server listening there?"))
        }
        let hostKey: HostKey
        do {
            hostKey = try verifyHostKey(session, target)
            try authenticate(session, target)
        } catch let error as SSHError {
            _ = libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "3tofu refuses", "")
            throw fail(error)
        }
        libssh2_keepalive_config(session, 1, UInt32(max(1, target.keepaliveInterval)))
        libssh2_session_set_blocking(session, 0)
        return SSHSession(target: target, session: session, socket: fd, hostKey: hostKey)
    }

    private static func openSocket(_ target: SSHTarget) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(target.host, String(target.port), &hints, &list)
        guard status == 0, let first = list else {
            throw SSHError(.connect, "cannot resolve the SSH host \(target.host): \(String(cString: gai_strerror(status))); check host in the vantages file")
        }
        defer { freeaddrinfo(list) }
        var lastFailure = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            entry = current.pointee.ai_next
            let fd = Glibc.socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: Int(target.connectTimeout), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 {
                var none = timeval(tv_sec: 0, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
                var on: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            lastFailure = String(cString: strerror(errno))
            close(fd)
        }
        throw SSHError(.connect, "cannot connect to the SSH host \(target.host) port \(target.port): \(lastFailure); check that the host is up and sshd listens on that port")
    }

    private static func verifyHostKey(_ session: OpaquePointer, _ target: SSHTarget) throws -> HostKey {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw SSHError(.connect, "\(target.route) presented no host key: \(lastError(session))")
        }
        let key = HostKey(algorithm: HostKey.algorithmName(libssh2Type: type), blob: Data(bytes: raw, count: length))
        let shown = "its \(key.algorithm) key is \(key.fingerprint)"
        guard FileManager.default.isReadableFile(atPath: target.knownHosts) else {
            throw SSHError(.hostKeyUnknown, "refusing \(target.route): the known_hosts file \(target.knownHosts) does not exist or cannot be read, so its host key cannot be checked (\(shown)). If that fingerprint is right, add the host with: \(target.keyscanCommand)")
        }
        guard let hosts = libssh2_knownhost_init(session) else {
            throw SSHError(.connect, "libssh2 could not allocate a known_hosts list")
        }
        defer { libssh2_knownhost_free(hosts) }
        let read = libssh2_knownhost_readfile(hosts, target.knownHosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        guard read >= 0 else {
            throw SSHError(.configuration, "cannot read the known_hosts file \(target.knownHosts): \(lastError(session)); fix or regenerate it (\(target.keyscanCommand))")
        }
        let typeMask = tofu_ssh_knownhost_type_plain() | tofu_ssh_knownhost_keyenc_raw() | tofu_ssh_knownhost_key_for_hostkey_type(type)
        var found: UnsafeMutablePointer<libssh2_knownhost>?
        let check = raw.withMemoryRebound(to: CChar.self, capacity: length) { _ in
            libssh2_knownhost_checkp(hosts, target.host, Int32(target.port), raw, length, typeMask, &found)
        }
        switch check {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH:
            return key
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
            throw SSHError(.hostKeyChanged, "refusing \(target.route): its host key has CHANGED — \(shown), which does not match \(target.knownHosts). Someone may be intercepting this connection. If the host's key really was replaced, check the new fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_\(key.algorithm.contains("ed25519") ? "ed25519" : "*")_key.pub), remove the old entry (ssh-keygen -R '[\(target.host)]:\(target.port)' -f \(target.knownHosts)) and add the new one: \(target.keyscanCommand)")
        case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
            throw SSHError(.hostKeyUnknown, "refusing \(target.route): its host key is not in \(target.knownHosts) (\(shown)). If that fingerprint is right (compare with ssh-keygen -lf on the host), add it with: \(target.keyscanCommand)")
        default:
            throw SSHError(.hostKeyUnknown, "refusing \(target.route): its host key could not be checked against \(target.knownHosts) (\(lastError(session))); \(shown)")
        }
    }

    private static func authenticate(_ session: OpaquePointer, _ target: SSHTarget) throws {
        let user = target.user
        let userLength = UInt32(user.utf8.count)
        if let identity = target.identity {
            guard FileManager.default.isReadableFile(atPath: identity) else {
                throw SSHError(.configuration, "the SSH identity file \(identity) for \(target.route) does not exist or cannot be read; fix identity in the vantages file (or remove it to use ssh-agent)")
            }
            let publicKey = identity + ".pub"
            let publicPath: String? = FileManager.default.isReadableFile(atPath: publicKey) ? publicKey : nil
            let status = libssh2_userauth_publickey_fromfile_ex(session, user, userLength, publicPath, identity, target.passphrase)
            guard status == 0 else {
                let hint = target.passphrase == nil
                    ? "check that \(publicKey) is in ~\(user)/.ssh/authorized_keys on the host; if the key is encrypted, set \(SSHTarget.passphraseVariable)"
                    : "check that \(publicKey) is in ~\(user)/.ssh/authorized_keys on the host and that \(SSHTarget.passphraseVariable) is the key's passphrase"
                throw SSHError(.authentication, "SSH authentication as \(user) to \(target.route) with the key \(identity) failed: \(lastError(session)); \(hint)")
            }
            return
        }
        guard let agent = libssh2_agent_init(session) else {
            throw SSHError(.authentication, "libssh2 could not create an ssh-agent client for \(target.route)")
        }
        defer { libssh2_agent_free(agent) }
        guard libssh2_agent_connect(agent) == 0 else {
            throw SSHError(.authentication, "no identity is set for \(target.route) and no ssh-agent is reachable (SSH_AUTH_SOCK); start ssh-agent and ssh-add a key, or set identity in the vantages file")
        }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else {
            throw SSHError(.authentication, "the ssh-agent did not list its keys for \(target.route): \(lastError(session))")
        }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var offered = 0
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            let next = libssh2_agent_get_identity(agent, &identity, previous)
            guard next == 0, let identity else { break }
            offered += 1
            if libssh2_agent_userauth(agent, user, identity) == 0 { return }
            previous = identity
        }
        throw SSHError(.authentication, "SSH authentication as \(user) to \(target.route) failed: the ssh-agent offered \(offered) key(s) and the host accepted none; add the right key to the agent (ssh-add) or set identity in the vantages file")
    }

    static func lastError(_ session: OpaquePointer) -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "libssh2 error \(code)" }
        return String(cString: message)
    }

    // MARK: - Running a command

    /// What a finished command left: its exit status (nil when it died from a signal) and its stderr (capped).
    struct ExecResult {
        var exitStatus: Int32?
        var exitSignal: String?
        var stderr: Data
        var stderrTruncated: Bool
        /// A long-lived process that had served earlier exchanges ended without a byte of output for
        /// this one — not even the acknowledgement both remote commands write to stderr when a
        /// request arrives — so it died while idle: the request can be sent again to a new process.
        var endedBeforeAnswering = false
    }

    /// Runs `command`, writes `stdin` then EOF, delivers stdout to `stdout` as it arrives, and keeps
    /// stderr (up to `stderrLimit` bytes; the rest is drained). Both streams are drained together, so
    /// a command that fills one while we wait on the other cannot deadlock. The exit status is read
    /// after the channel closed. If `stdout` throws or the exchange is cancelled, the channel is
    /// closed (the session stays).
    func exec(
        _ command: String, stdin: Data, stderrLimit: Int = 256 * 1024, cancellation: CancellationFlag,
        stdout: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> ExecResult {
        guard !isBroken else {
            throw SSHError(.connectionLost, "the SSH session to \(target.route) is closed")
        }
        let channel = try start(command, cancellation: cancellation)
        // Closed even after a cancellation (its own flag): the session stays for other exchanges.
        defer { free(channel, cancellation: CancellationFlag()) }
        var stderr = StderrCapture(limit: stderrLimit)
        let ended = try pump(
            channel, stdin: stdin, sendEOF: true, cancellation: cancellation, stdout: stdout, stderr: { stderr.take($0) }, until: { false })
        precondition(ended)
        return try finish(channel, stderr: stderr, cancellation: cancellation)
    }

    // MARK: - Long-lived remote processes

    /// Exchanges one session runs at once, each with a long-lived remote process of its own.
    static let maximumProcesses = 4

    /// The long-lived remote processes of this session waiting for a request, by command: each is
    /// a channel whose command reads exchange after exchange on its stdin. At most
    /// `maximumProcesses` exist per command (`SSHConnection` lets no more exchanges in at once).
    /// They end with the session. Only touched holding `lock`.
    private var idle: [String: [OpaquePointer]] = [:]
    private var startedCount = 0
    /// Exchanges in progress (holding `lock`): while others run, a thread waiting for the socket
    /// looks again soon, since another thread's read may have taken in its bytes.
    private var running = 0
    /// How many remote processes `exchange` started on this session (one per exchange running at
    /// once, unless one ended).
    var processesStarted: Int { locked { startedCount } }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// One exchange with a long-lived process running `command` (an idle one, else a new one):
    /// writes `stdin` (no EOF), delivers stdout and stderr as they arrive, and returns once
    /// `isComplete` says the reply is whole; the process then waits for the next exchange. If the
    /// process ends first, its channel is closed and the result carries its exit status. A
    /// receiver that throws or a cancellation closes this exchange's channel (its process is
    /// mid-reply and cannot serve another); a timeout or a lost connection abandons the session.
    /// Other exchanges run on the same session meanwhile, each on its own channel.
    func exchange(
        _ command: String, stdin: Data, stderrLimit: Int = 256 * 1024, cancellation: CancellationFlag,
        stdout: (UnsafeRawBufferPointer) throws -> Void, stderr stderrHandler: (UnsafeRawBufferPointer) throws -> Void, isComplete: () -> Bool
    ) throws -> ExecResult {
        guard !isBroken else {
            throw SSHError(.connectionLost, "the SSH session to \(target.route) is closed")
        }
        var waiting: OpaquePointer?
        var gone: [OpaquePointer] = []
        locked {
            running += 1
            // One that ended while idle (killed, or an agent that serves one request), or talked
            // out of turn, is closed; the next one that still waits is taken.
            while let candidate = idle[command]?.popLast() {
                if stillWaiting(candidate) {
                    waiting = candidate
                    break
                }
                gone.append(candidate)
            }
        }
        defer { locked { running -= 1 } }
        for channel in gone { free(channel, cancellation: cancellation) }
        let channel: OpaquePointer
        let reused = waiting != nil
        if let waiting {
            channel = waiting
        } else {
            channel = try start(command, cancellation: cancellation)
            locked { startedCount += 1 }
        }
        var stderr = StderrCapture(limit: stderrLimit)
        var replyBytes = 0
        let ended: Bool
        do {
            ended = try pump(
                channel, stdin: stdin, sendEOF: false, cancellation: cancellation,
                stdout: { bytes in
                    replyBytes += bytes.count
                    try stdout(bytes)
                },
                stderr: { bytes in
                    replyBytes += bytes.count
                    stderr.take(bytes)
                    try stderrHandler(bytes)
                }, until: isComplete)
        } catch {
            // Mid-reply: this process cannot serve another exchange.
            free(channel, cancellation: CancellationFlag())
            throw error
        }
        guard ended else {
            locked { idle[command, default: []].append(channel) }
            return ExecResult(exitStatus: nil, exitSignal: nil, stderr: stderr.data, stderrTruncated: stderr.truncated)
        }
        defer { free(channel, cancellation: cancellation) }
        var result = try finish(channel, stderr: stderr, cancellation: cancellation)
        result.endedBeforeAnswering = reused && replyBytes == 0
        return result
    }

    /// Whether an idle long-lived process is still there, silent, waiting for a request: reads
    /// whatever already arrived for its channel (its end, or output out of turn) without waiting.
    /// Holding `lock`.
    private func stillWaiting(_ channel: OpaquePointer) -> Bool {
        var byte: CChar = 0
        for stream in [Int32(0), Int32(SSH_EXTENDED_DATA_STDERR)] {
            let count = libssh2_channel_read_ex(channel, stream, &byte, 1)
            if count > 0 { return false }
            if count < 0, count != Int(LIBSSH2_ERROR_EAGAIN) { return false }
        }
        return libssh2_channel_eof(channel) == 0
    }

    // MARK: - Channels

    /// Stderr kept up to a limit; the rest is counted as cut.
    private struct StderrCapture {
        let limit: Int
        var data = Data()
        var truncated = false
        mutating func take(_ bytes: UnsafeRawBufferPointer) {
            let room = limit - data.count
            if room > 0 { data.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes.prefix(room))) }
            if bytes.count > room { truncated = true }
        }
    }

    /// Opens a session channel and starts `command` on it. Holding `lock` throughout, waits
    /// included: libssh2 keeps an opening's state in the session, and its wait for the answer to
    /// the exec request, interleaved with other channels' reads, can end in a bogus failure
    /// ("Failed waiting for channel success"); the other exchanges pause for those round trips,
    /// once per process.
    private func start(_ command: String, cancellation: CancellationFlag) throws -> OpaquePointer {
        let deadline = ContinuousClock.now.advanced(by: .seconds(target.idleTimeout))
        lock.lock()
        defer { lock.unlock() }
        func step<T>(_ attempt: () -> Step<T>) throws -> T {
            while true {
                switch attempt() {
                case .done(let value): return value
                case .again: try waitSocket(cancellation, deadline: deadline, holdingLock: true)
                case .failed(let code): throw lost("talking to the SSH server", code)
                }
            }
        }
        let channel: OpaquePointer = try step {
            if let channel = tofu_ssh_channel_open_session(session) { return .done(channel) }
            return libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN ? .again : .failed(Int32(libssh2_session_last_errno(session)))
        }
        let commandLength = UInt32(command.utf8.count)
        do {
            _ = try step {
                let status = tofu_ssh_channel_exec(channel, command, commandLength)
                return status == 0 ? .done(()) : status == LIBSSH2_ERROR_EAGAIN ? .again : .failed(status)
            }
        } catch {
            while libssh2_channel_free(channel) == LIBSSH2_ERROR_EAGAIN, !isBroken {
                if (try? waitSocket(CancellationFlag(), deadline: ContinuousClock.now.advanced(by: .seconds(5)), holdingLock: true)) == nil { break }
            }
            throw error
        }
        return channel
    }

    private func free(_ channel: OpaquePointer, cancellation: CancellationFlag) {
        while locked({ libssh2_channel_free(channel) }) == LIBSSH2_ERROR_EAGAIN, !isBroken {
            if (try? waitSocket(cancellation, deadline: ContinuousClock.now.advanced(by: .seconds(5)))) == nil { break }
        }
    }

    /// After the command's output ended: closes the channel and reads how the command ended.
    private func finish(_ channel: OpaquePointer, stderr: StderrCapture, cancellation: CancellationFlag) throws -> ExecResult {
        let deadline = ContinuousClock.now.advanced(by: .seconds(target.idleTimeout))
        _ = try retry(cancellation, { deadline }) {
            let status = libssh2_channel_close(channel)
            return status == 0 ? .done(()) : status == LIBSSH2_ERROR_EAGAIN ? .again : .failed(status)
        }
        _ = try retry(cancellation, { deadline }) {
            let status = libssh2_channel_wait_closed(channel)
            return status == 0 ? .done(()) : status == LIBSSH2_ERROR_EAGAIN ? .again : .failed(status)
        }
        return locked {
            var signal: UnsafeMutablePointer<CChar>?
            var signalLength = 0
            _ = libssh2_channel_get_exit_signal(channel, &signal, &signalLength, nil, nil, nil, nil)
            var exitSignal: String?
            if let signal, signalLength > 0 {
                exitSignal = String(cString: signal)
                Glibc.free(signal)
            }
            let status = libssh2_channel_get_exit_status(channel)
            return ExecResult(exitStatus: exitSignal == nil ? status : nil, exitSignal: exitSignal, stderr: stderr.data, stderrTruncated: stderr.truncated)
        }
    }

    /// Writes `stdin` (then EOF if `sendEOF`) and delivers stdout and stderr as they arrive, both
    /// drained together, until `until()` holds after a read (false is returned) or both streams
    /// ended (true). No progress for the target's idle timeout or a socket error throws (and
    /// abandons the session); cancellation throws `CancellationError`, and so does whatever
    /// `stdout` or `stderr` throws. The bytes are handed on with `lock` released.
    private func pump(
        _ channel: OpaquePointer, stdin: Data, sendEOF: Bool, cancellation: CancellationFlag,
        stdout: (UnsafeRawBufferPointer) throws -> Void, stderr: (UnsafeRawBufferPointer) throws -> Void, until: () -> Bool
    ) throws -> Bool {
        var deadline = ContinuousClock.now.advanced(by: .seconds(target.idleTimeout))
        func progressed() { deadline = ContinuousClock.now.advanced(by: .seconds(target.idleTimeout)) }
        var written = 0
        var eofSent = !sendEOF
        var stdoutOpen = true
        var stderrOpen = true
        let bufferSize = 64 * 1024
        let outBuffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        let errBuffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer {
            outBuffer.deallocate()
            errBuffer.deallocate()
        }

        while stdoutOpen || stderrOpen {
            // Also while output keeps coming: a remote that never stops talking (endless interim
            // responses, a trickling body) must not hold the run past its timeout.
            if cancellation.isCancelled { throw CancellationError() }
            var moved = false
            var outCount = 0
            var errCount = 0
            try locked {
                if written < stdin.count {
                    let count = stdin.withUnsafeBytes { bytes -> Int in
                        guard let base = bytes.baseAddress else { return 0 }
                        return libssh2_channel_write_ex(channel, 0, base.advanced(by: written).assumingMemoryBound(to: CChar.self), stdin.count - written)
                    }
                    if count > 0 {
                        written += count
                        moved = true
                    } else if count < 0, count != Int(LIBSSH2_ERROR_EAGAIN) {
                        // The command may have exited without reading all of its input; keep reading its output.
                        written = stdin.count
                    }
                } else if !eofSent {
                    let status = libssh2_channel_send_eof(channel)
                    if status == 0 || status != LIBSSH2_ERROR_EAGAIN { eofSent = true }
                }
                if stdoutOpen {
                    let count = libssh2_channel_read_ex(channel, 0, outBuffer.assumingMemoryBound(to: CChar.self), bufferSize)
                    if count > 0 {
                        outCount = count
                    } else if count == 0 {
                        if libssh2_channel_eof(channel) != 0 { stdoutOpen = false }
                    } else if count != Int(LIBSSH2_ERROR_EAGAIN) {
                        throw lost("reading the command's output", Int32(count))
                    }
                }
                if stderrOpen {
                    let count = libssh2_channel_read_ex(channel, Int32(SSH_EXTENDED_DATA_STDERR), errBuffer.assumingMemoryBound(to: CChar.self), bufferSize)
                    if count > 0 {
                        errCount = count
                    } else if count == 0 {
                        if libssh2_channel_eof(channel) != 0 { stderrOpen = false }
                    } else if count != Int(LIBSSH2_ERROR_EAGAIN) {
                        throw lost("reading the command's error output", Int32(count))
                    }
                }
            }
            if outCount > 0 {
                moved = true
                try stdout(UnsafeRawBufferPointer(start: outBuffer, count: outCount))
            }
            if errCount > 0 {
                moved = true
                try stderr(UnsafeRawBufferPointer(start: errBuffer, count: errCount))
            }
            if written >= stdin.count, until() { return false }
            if moved {
                progressed()
            } else if stdoutOpen || stderrOpen {
                try waitSocket(cancellation, deadline: deadline)
            }
        }
        return true
    }

    /// Sends a keepalive if one is due; false when the connection is gone.
    func keepalive() -> Bool {
        guard !isBroken else { return false }
        var next: Int32 = 0
        let status = locked { libssh2_keepalive_send(session, &next) }
        if status != 0, status != LIBSSH2_ERROR_EAGAIN {
            isBroken = true
            return false
        }
        return true
    }

    // MARK: - Non-blocking helpers

    enum Step<T> {
        case done(T)
        case again
        case failed(Int32)
    }

    /// Runs `step` holding `lock` until it is done, waiting for the socket (without the lock) in between.
    private func retry<T>(_ cancellation: CancellationFlag, _ deadline: () -> ContinuousClock.Instant, _ step: () -> Step<T>) throws -> T {
        while true {
            switch locked(step) {
            case .done(let value): return value
            case .again: try waitSocket(cancellation, deadline: deadline())
            case .failed(let code): throw locked { lost("talking to the SSH server", code) }
            }
        }
    }

    /// Holding `lock`: the session is abandoned, with the message of the last libssh2 error.
    private func lost(_ doing: String, _ code: Int32) -> SSHError {
        isBroken = true
        return SSHError(.connectionLost, "the SSH connection to \(target.route) broke while \(doing): \(Self.lastError(session)) (libssh2 error \(code))")
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on, checking for
    /// cancellation and the deadline every 200 ms (every 5 ms while other exchanges run: their
    /// reads may take in this one's bytes, leaving the socket quiet) and sending keepalives while
    /// idle. Called without `lock`.
    private func waitSocket(_ cancellation: CancellationFlag, deadline: ContinuousClock.Instant, holdingLock: Bool = false) throws {
        if cancellation.isCancelled { throw CancellationError() }
        if ContinuousClock.now >= deadline {
            isBroken = true
            throw SSHError(.timeout, "the remote command on \(target.route) made no progress for \(Int(target.idleTimeout)) s; giving up")
        }
        let (directions, others) = holdingLock
            ? (libssh2_session_block_directions(session), false)
            : locked { (libssh2_session_block_directions(session), running > 1) }
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        let ready = poll(&descriptor, 1, others ? 5 : 200)
        if ready == 0 {
            if !others, !holdingLock { _ = keepalive() }
        } else if ready > 0, descriptor.revents & Int16(POLLNVAL) != 0 {
            isBroken = true
            throw SSHError(.connectionLost, "the SSH socket to \(target.route) is no longer valid")
        }
    }
}
