import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` (the git commit the sources are at, and whether tracked files differ
/// from it) into the target on every build, with plain `swift build` as with `make`: a prebuild
/// command runs before each build, so the commit `3tofu --version` names cannot go stale. The file is
/// rewritten only when its text changes, so an unchanged tree recompiles nothing. Outside a git
/// checkout the commit is unknown, and `--version` says so.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let work = context.pluginWorkDirectoryURL
        let generated = work.appendingPathComponent("Generated")
        let script = """
            set -eu
            root="$1"; out="$2"; scratch="$3"
            commit=""; modified=false
            if command -v git >/dev/null 2>&1 && commit=$(git -C "$root" rev-parse --verify --quiet HEAD 2>/dev/null); then
                if [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]; then modified=true; fi
            else
                commit=""
            fi
            case "$commit" in *[!0-9a-f]*) commit="" ;; esac
            if [ -n "$commit" ]; then value="\\"$commit\\""; else value=nil; fi
            mkdir -p "$out"
            printf '%s\\n' \
                '// Generated on every build by Plugins/BuildCommit; not in git.' \
                'package enum BuildCommit {' \
                "    package static let commit: String? = $value" \
                "    package static let modified = $modified" \
                '}' > "$scratch"
            if cmp -s "$scratch" "$out/BuildCommit.swift"; then rm -f "$scratch"; else mv -f "$scratch" "$out/BuildCommit.swift"; fi
            """
        return [
            .prebuildCommand(
                displayName: "Recording the git commit 3tofu is built from",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [
                    "-c", script, "build-commit",
                    context.package.directoryURL.path, generated.path, work.appendingPathComponent("BuildCommit.swift.next").path,
                ],
                outputFilesDirectory: generated
            )
        ]
    }
}
