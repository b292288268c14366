/// Where a run's registry logins come from, decided without I/O: which files are read, in which
/// order, and what to try in each for one image, as containers/image (skopeo, podman) and docker
/// do it. `LoginResolver` reads the files and runs the helpers this plan names.
public enum LoginPlan {
    /// What the command line asked for.
    public enum Request: Sendable, Equatable {
        /// `--no-creds`: anonymous, nothing is read or run.
        case anonymous
        /// `--creds USER[:PASSWORD]`: this login for the run's registry, nothing else is read or run.
        case given(RegistryCredential)
        /// The auth files (with `--authfile FILE` when given).
        case files(authfile: String?)
    }

    /// One auth file to read and how it was named (for messages).
    public struct FileLocation: Sendable, Equatable {
        public var path: String
        public var kind: AuthFile.Kind
        /// Named by the user (`--authfile`): a missing file is an error, not "no logins".
        public var required: Bool

        public init(path: String, kind: AuthFile.Kind, required: Bool = false) {
            self.path = path
            self.kind = kind
            self.required = required
        }
    }

    /// skopeo's order: a file the user named (`--authfile`, else `$REGISTRY_AUTH_FILE`) and nothing
    /// else; otherwise `${XDG_RUNTIME_DIR}/containers/auth.json` (`/run/containers/UID/auth.json`
    /// without it), `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`, then docker's config
    /// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
    public static func files(authfile: String?, environment: [String: String], home: String, uid: UInt32) -> [FileLocation] {
        func set(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let authfile {
            return [FileLocation(path: authfile, kind: .containers, required: true)]
        }
        if let named = set("REGISTRY_AUTH_FILE") {
            return [FileLocation(path: named, kind: .containers)]
        }
        var result: [FileLocation] = []
        if let runtime = set("XDG_RUNTIME_DIR") {
            result.append(FileLocation(path: runtime + "/containers/auth.json", kind: .containers))
        } else {
            result.append(FileLocation(path: "/run/containers/\(uid)/auth.json", kind: .containers))
        }
        result.append(FileLocation(path: (set("XDG_CONFIG_HOME") ?? home + "/.config") + "/containers/auth.json", kind: .containers))
        result.append(FileLocation(path: (set("DOCKER_CONFIG") ?? home + "/.docker") + "/config.json", kind: .docker))
        return result
    }

    /// One step of a lookup, in order; the lookup stops at the first login found.
    public enum Step: Sendable, Equatable {
        /// This login, from this file.
        case use(RegistryCredential, from: String)
        /// Run `docker-credential-NAME get` for `server`; `source` says which file named it and how.
        case askHelper(String, server: String, source: String)
        /// A file with no login for the name (`path`), or none at all (`absent`).
        case noEntry(path: String)
        case absent(path: String)
    }

    /// The steps for image `name` (`host[:port]/repository`) over `files` in order (nil: absent).
    /// Within a file: its `credHelpers` entry for the host, else (docker's config only) its
    /// `credsStore`, else its `auths` entries from the most specific namespace to the host. The first file
    /// that yields a login wins; a helper that has no login for the host passes on to the next file.
    public static func steps(for name: String, files: [(location: FileLocation, file: AuthFile?)]) -> [Step] {
        let candidates = LoginKey.candidates(for: name)
        let host = LoginKey.host(of: candidates[0])
        let server = LoginKey.helperServer(for: host)
        var steps: [Step] = []
        for (location, file) in files {
            guard let file else {
                steps.append(.absent(path: location.path))
                continue
            }
            if let helper = file.credHelpers[host] {
                steps.append(.askHelper(helper, server: server, source: "credHelpers in \(file.path)"))
                continue
            }
            // docker asks its credsStore for every host without a credHelpers entry, and then
            // reads nothing from auths (entries there are `{}` markers for the helper's logins).
            if let store = file.credsStore {
                steps.append(.askHelper(store, server: server, source: "credsStore in \(file.path)"))
                continue
            }
            if let key = candidates.first(where: { file.auths[$0] != nil }), let login = file.auths[key] {
                steps.append(.use(login, from: file.path))
                return steps
            }
            steps.append(.noEntry(path: file.path))
        }
        return steps
    }
}
