import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds the run's logins before any vantage is asked: reads the auth files `LoginPlan` names and
/// runs the credential helpers it names, on this machine only. Each login is then offered only to
/// its own registry (`RegistryClient`, `ChallengePolicy`), over every vantage's route; an SSH
/// vantage gets it on stdin, never on a command line.
public enum LoginResolver {
    /// `names`: the images the run reads (`host[:port]/repository`). One login per registry host:
    /// the first name on a host decides which namespaced entry applies.
    public static func resolve(
        _ request: LoginPlan.Request, names: [String], environment: [String: String],
        home: String? = nil, helperTimeout: Double = CredentialHelper.timeout
    ) throws -> RegistryCredentials {
        var firstNameByHost: [(host: String, name: String)] = []
        for name in names {
            let host = LoginKey.host(of: LoginKey.normalise(name))
            if !firstNameByHost.contains(where: { $0.host == host }) { firstNameByHost.append((host, name)) }
        }
        switch request {
        case .anonymous:
            return RegistryCredentials(anonymousReason: "--no-creds")
        case .given(let credential):
            guard firstNameByHost.count <= 1 else {
                let hosts = firstNameByHost.map(\.host).joined(separator: ", ")
                throw RegistryError(.loginUnusable, "--creds gives one login, but this run reads from \(firstNameByHost.count) registries (\(hosts)); a login must go only to its own registry: put each in an auth file (--authfile FILE)")
            }
            let hosts = firstNameByHost.map(\.host)
            return RegistryCredentials(
                Dictionary(uniqueKeysWithValues: hosts.map { ($0, credential) }), sources: Dictionary(uniqueKeysWithValues: hosts.map { ($0, "--creds") }))
        case .files(let authfile):
            let home = home ?? environment["HOME"] ?? NSHomeDirectory()
            let locations = LoginPlan.files(authfile: authfile, environment: environment, home: home, uid: getuid())
            let files = try locations.map { location in (location: location, file: try read(location)) }
            var logins: [String: RegistryCredential] = [:]
            var sources: [String: String] = [:]
            var tried: [String: [String]] = [:]
            for (host, name) in firstNameByHost {
                var seen: [String] = []
                steps: for step in LoginPlan.steps(for: name, files: files) {
                    switch step {
                    case .absent(let path):
                        seen.append("\(path) (absent)")
                    case .noEntry(let path):
                        seen.append("\(path) (no login for \(host))")
                    case .use(let credential, let path):
                        logins[host] = credential
                        sources[host] = path
                        break steps
                    case .askHelper(let helper, let server, let source):
                        let named = "docker-credential-\(helper) (\(source))"
                        switch try CredentialHelper.get(helper, server: server, source: source, environment: environment, timeout: helperTimeout) {
                        case .found(let credential):
                            logins[host] = credential
                            sources[host] = named
                            break steps
                        case .notFound:
                            seen.append("\(named): no login for \(server)")
                        }
                    }
                }
                tried[host] = seen
            }
            return RegistryCredentials(logins, sources: sources, tried: tried)
        }
    }

    /// nil when the file does not exist (and was not named with --authfile); an error naming the
    /// file when it cannot be read or is not an auth file. Only regular files are read.
    static func read(_ location: LoginPlan.FileLocation) throws -> AuthFile? {
        var info = stat()
        guard stat(location.path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            if errno == ENOENT && !location.required { return nil }
            let what = location.required ? "--authfile \(location.path)" : location.path
            throw RegistryError(.loginUnusable, "cannot read \(what) (\(reason)); give an auth file written by `skopeo login` or `docker login`")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw RegistryError(.loginUnusable, "\(location.path) is not a regular file; an auth file must be one")
        }
        guard info.st_size <= 4 << 20, let data = FileManager.default.contents(atPath: location.path) else {
            throw RegistryError(.loginUnusable, "cannot read \(location.path) (unreadable or larger than 4 MiB); check its permissions")
        }
        do {
            return try AuthFile.parse(data, path: location.path, kind: location.kind)
        } catch let error as RegistryError {
            throw RegistryError(.loginUnusable, error.message)
        }
    }
}
