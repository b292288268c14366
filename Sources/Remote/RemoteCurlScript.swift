import Foundation
import Transport

/// The one command an SSH vantage with `agent = "curl"` runs on the remote host, and the standard
/// input that tells it what to fetch.
///
/// The command is a constant: nothing from a request or a registry is ever interpolated into it.
/// It is started once per exchange running at once in an SSH session (at most
/// `SSHSession.maximumProcesses`) and then serves exchange after exchange, so the login shell
/// (and its start-up files) runs a few times per session, not once per request. Everything
/// variable — URL, headers (tokens included), range, an extra CA bundle — travels on standard
/// input, one request after another: a first line `3tofu-curl/2 MODE CA MAX NONCE SHOWN`, then (when
/// CA is 1) PEM lines ended by `3TOFU-END-CA`, then a curl config ended by `3TOFU-END-CONFIG`,
/// which the script hands to `curl -q -K -` through a pipe (`-q` ignores any ~/.curlrc). MAX (mode
/// `hash`) is the most body bytes hashed on the remote (`head -c`), or `-`: a body past the
/// request's `maximumBodyLength` is cut there, and its `size_download` shows it. NONCE is 32
/// random hex digits chosen by 3tofu for this exchange: the reply ends with the line
/// `3tofu-end NONCE` on stdout and on stderr. Neither the registry nor anything it sends knows
/// the nonce, so no body can end a reply early. SHOWN (`ShownChain.target`: `HOST:PORT,SNI`, or
/// `-`) is where `openssl s_client -showcerts` connects, stdin empty, after curl's exit 60 (a
/// certificate that failed verification), to record what the server showed: its chain's lines
/// go to stderr between `3tofu-shown-begin` and `3tofu-shown-end` (`3tofu-shown-none …` without
/// openssl).
///
/// The remote needs a POSIX `sh`, `curl`, and (for hashing) `sha256sum` or `openssl`. Proxy
/// variables are cleared and `--noproxy "*"` is set, so the remote's own direct network path is
/// used; redirects are not followed (the Registry layer decides about them); only http and https.
///
/// Output of one exchange: stdout carries the response header block(s) as curl's `-D` writes
/// them, then (mode `stream`) the body, then the end line. stderr carries `3tofu-begin NONCE`
/// as soon as the request line was read (so a process that dies later is known to have been
/// serving it), curl's messages, then
/// lines `3tofu-w NAME VALUE` (curl's `--write-out`), `3tofu-sha256 HEX` (mode `hash`: the body
/// was hashed on the remote and discarded), `3tofu-exit CODE` (curl's exit status), and the end
/// line. A setup failure prints `3tofu-error MESSAGE` and exits 90–92; the end of stdin ends the
/// script.
public enum RemoteCurlScript {
    public enum Mode: String, Sendable {
        /// The body comes back on stdout.
        case stream
        /// The body is hashed on the remote; only its SHA-256 (and size) come back.
        case hash
    }

    /// The line ending the CA certificates on standard input.
    static let caTerminator = "3TOFU-END-CA"
    /// The line ending one exchange's curl config on standard input.
    static let configTerminator = "3TOFU-END-CONFIG"
    static let requestVersion = "3tofu-curl/2"

    /// The remote script. One line, without `'`, `!` or `\\`, so it survives being wrapped in single
    /// quotes by sh, bash, zsh, fish and csh login shells alike. `c=$(r)` keeps the config in a
    /// variable (never an argument) until it is complete; `printf` is a shell built-in, so the
    /// config reaches curl's stdin without appearing in any process's arguments.
    static let script = [
        "set -u;",
        "umask 077;",
        "unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY CURL_HOME;",
        "command -v curl >/dev/null 2>&1 || { echo \"3tofu-error curl is not installed (or not on PATH)\" >&2; exit 91; };",
        "t=$(mktemp -d 2>/dev/null) || { echo \"3tofu-error mktemp -d failed\" >&2; exit 92; };",
        "trap \"rm -rf \\\"\\$t\\\"\" EXIT;",
        "trap \"exit 129\" HUP INT TERM PIPE;",
        "r() { while IFS= read -r l; do if [ \"$l\" = \(configTerminator) ]; then return 0; fi; printf \"%s\\n\" \"$l\"; done; return 1; };",
        "while IFS=\" \" read -r v mode ca max n p; do",
        "case \"$v\" in \(requestVersion)) ;; *) echo \"3tofu-error unsupported request format\" >&2; exit 90;; esac;",
        "printf \"3tofu-begin %s\\n\" \"$n\" >&2;",
        "rm -f \"$t/ca\" \"$t/h\" \"$t/rc\" \"$t/sum\";",
        "set -- -q -K - -sS -g --proto =http,https --proto-redir =http,https --noproxy \"*\";",
        "if [ \"$ca\" = 1 ]; then",
        "for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do",
        "if [ -r \"$f\" ]; then cat \"$f\" >\"$t/ca\"; break; fi; done;",
        "while IFS= read -r l; do if [ \"$l\" = \(caTerminator) ]; then break; fi; printf \"%s\\n\" \"$l\"; done >>\"$t/ca\";",
        "set -- \"$@\" --cacert \"$t/ca\";",
        "fi;",
        "c=$(r) || exit 0;",
        "case \"$mode\" in",
        "stream) printf \"%s\\n\" \"$c\" | curl \"$@\" -D -; rc=$?;;",
        "hash) if command -v sha256sum >/dev/null 2>&1; then h=sha256sum;",
        "elif command -v openssl >/dev/null 2>&1; then h=\"openssl dgst -sha256 -r\";",
        "else echo \"3tofu-error neither sha256sum nor openssl is installed\" >&2; exit 91; fi;",
        "{ printf \"%s\\n\" \"$c\" | curl \"$@\" -D \"$t/h\" -o -; echo $? >\"$t/rc\"; } | case \"${max:--}\" in -) $h;; *) head -c \"$max\" | $h;; esac >\"$t/sum\";",
        "read -r rc <\"$t/rc\"; cat \"$t/h\" 2>/dev/null; read -r s x <\"$t/sum\"; echo \"3tofu-sha256 $s\" >&2;;",
        "*) echo \"3tofu-error unknown mode\" >&2; exit 90;;",
        "esac;",
        "c=;",
        // curl 60: the server's certificate failed verification. What it showed is recorded by a
        // handshake of openssl's own (stdin empty: no request is sent), never trusted.
        "case \"$rc $p\" in \"60 \"|\"60 -\") ;; \"60 \"*)",
        "if command -v openssl >/dev/null 2>&1; then",
        "set -- s_client -connect \"${p%%,*}\" -showcerts;",
        "if [ \"${p#*,}\" = - ]; then set -- \"$@\" -noservername; else set -- \"$@\" -servername \"${p#*,}\"; fi;",
        "if command -v timeout >/dev/null 2>&1; then set -- timeout \(shownTimeout) openssl \"$@\"; else set -- openssl \"$@\"; fi;",
        "echo 3tofu-shown-begin >&2;",
        "\"$@\" </dev/null 2>/dev/null | sed -n \"/^Certificate chain/,/^---$/p\" | head -c \(shownLimit) >&2;",
        "printf \"\\n3tofu-shown-end\\n\" >&2;",
        "else echo \"3tofu-shown-none openssl is not installed (or not on PATH) on the remote host\" >&2; fi;;",
        "esac;",
        "echo \"3tofu-exit $rc\" >&2;",
        "printf \"3tofu-end %s\\n\" \"$n\" >&2;",
        "printf \"3tofu-end %s\\n\" \"$n\";",
        "done",
    ].joined(separator: " ")

    /// Seconds `openssl s_client` may take to show a certificate after a failed verification.
    static let shownTimeout = 20
    /// The most of its output kept (the chain's lines).
    static let shownLimit = 65536

    /// The exact command line sent to the SSH server (run by the login shell of the remote user).
    public static let command = "sh -c '" + script + "'"

    /// The line that ends one exchange's reply, on stdout and on stderr.
    static func endLine(nonce: String) -> String { "3tofu-end \(nonce)\n" }

    /// 32 random hex digits (from the system's cryptographic generator) for one exchange.
    static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
    }

    /// What curl reports after each transfer, on stderr (`%{stderr}`), one `3tofu-w` line each.
    static let writeOut: String = {
        let names = [
            "remote_ip", "http_version", "ssl_verify_result", "url_effective", "response_code", "size_download",
            "time_namelookup", "time_connect", "time_appconnect", "time_starttransfer", "time_total",
        ]
        var format = "%{stderr}\\n"
        for name in names { format += "3tofu-w \(name) %{\(name)}\\n" }
        format += "3tofu-w certs-begin\\n%{certs}\\n3tofu-w certs-end\\n"
        return format
    }()

    /// Settings for the remote curl that do not depend on the request.
    public struct Options: Sendable, Equatable {
        public var connectTimeout: Double
        public var lowSpeedLimit: Int
        public var lowSpeedTime: Int
        public var userAgent: String
        /// PEM certificates trusted in addition to the remote's own CA bundle.
        public var extraCAPEM: Data?

        public init(connectTimeout: Double = 20, lowSpeedLimit: Int = 1024, lowSpeedTime: Int = 30, userAgent: String = "3tofu/0.1", extraCAPEM: Data? = nil) {
            self.connectTimeout = connectTimeout
            self.lowSpeedLimit = lowSpeedLimit
            self.lowSpeedTime = lowSpeedTime
            self.userAgent = userAgent
            self.extraCAPEM = extraCAPEM
        }
    }

    /// The standard input for one exchange. `memoryLimit` caps the body curl accepts (stream mode);
    /// `nonce` (`makeNonce()`) is echoed in the reply's end lines.
    public static func standardInput(for request: HTTPRequest, mode: Mode, memoryLimit: Int?, options: Options, nonce: String) -> Data {
        let hashLimit = mode == .hash ? hashedBodyLimit(request).map(String.init) ?? "-" : "-"
        let shown = ShownChain.target(url: request.url) ?? "-"
        var text = "\(requestVersion) \(mode.rawValue) \(options.extraCAPEM == nil ? 0 : 1) \(hashLimit) \(nonce) \(shown)\n"
        if let pem = options.extraCAPEM {
            let lines = String(decoding: pem, as: UTF8.self)
                .replacingOccurrences(of: "\r", with: "")
                .split(separator: "\n", omittingEmptySubsequences: true)
                .filter { $0 != caTerminator }
            for line in lines { text += line + "\n" }
            text += caTerminator + "\n"
        }
        text += curlConfig(for: request, mode: mode, memoryLimit: memoryLimit, options: options)
        text += configTerminator + "\n"
        return Data(text.utf8)
    }

    /// Mode `hash`: the most body bytes the remote hashes (the request's `maximumBodyLength`, less
    /// its range start); nil without a maximum.
    static func hashedBodyLimit(_ request: HTTPRequest) -> Int64? {
        request.maximumBodyLength.map { max(0, $0 - max(0, request.rangeStart ?? 0)) }
    }

    /// The curl config (`-K -`) for one exchange. Every value is a quoted, escaped string.
    static func curlConfig(for request: HTTPRequest, mode: Mode, memoryLimit: Int?, options: Options) -> String {
        var lines = [
            "url = \(quoted(request.url))",
            "user-agent = \(quoted(options.userAgent))",
            "connect-timeout = \(String(format: "%.3f", options.connectTimeout))",
            "speed-limit = \(options.lowSpeedLimit)",
            "speed-time = \(options.lowSpeedTime)",
        ]
        for header in request.headers {
            let line = header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
            lines.append("header = \(quoted(line))")
        }
        if let start = request.rangeStart {
            lines.append("range = \(quoted("\(start)-"))")
        }
        if request.method == .head {
            lines.append("head")
            lines.append("output = \"/dev/null\"")
        }
        if let memoryLimit, mode == .stream {
            lines.append("max-filesize = \(memoryLimit)")
        }
        lines.append("write-out = \"\(writeOut)\"")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A curl config string: `"` and `\` escaped (curl would otherwise read `\n`, `\t` as escapes).
    static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A read-only check of the remote: curl's version line and which SHA-256 tool exists.
    public static let probeCommand = "sh -c '" + [
        "if command -v curl >/dev/null 2>&1; then echo \"3tofu-curl $(curl -q --version 2>/dev/null | head -n 1)\"; else echo \"3tofu-missing curl\"; fi;",
        "if command -v sha256sum >/dev/null 2>&1; then echo \"3tofu-hash sha256sum\";",
        "elif command -v openssl >/dev/null 2>&1; then echo \"3tofu-hash openssl\"; else echo \"3tofu-missing sha256sum\"; fi",
    ].joined(separator: " ") + "'"
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
