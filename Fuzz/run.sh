#!/usr/bin/env bash
# Builds each libFuzzer harness (with -sanitize=fuzzer,address) and runs it for FUZZ_SECONDS
# (default 60) from the seed corpus in Fuzz/corpus/<target>/.
#   reference digest manifest challenge: Sources/OCI/*.swift compiled straight in.
#   agent: Sources/Remote/AgentProtocol.swift compiled in, against Sources/Transport's
#          HTTPTransport.swift, RequestValidation.swift and URLRedaction.swift built alone as
#          module Transport (no libcurl).
#   config: Configuration, Agreement, OCI, TOMLKit (toml++) and swift-crypto built by SwiftPM with
#          the sanitizers into Fuzz/.work/spm (a few minutes the first time, cached after), then
#          the harness linked against those objects.
# Fuzz/dict/<target>.dict, when present, lists tokens of the target's input language.
# Fuzz/regressions/<target>/ holds inputs that once failed; they are replayed on every run.
# New interesting inputs go to Fuzz/.work/<target>/ (not committed); a crash stops the run with
# the input saved as Fuzz/.work/crash-<target>-*, and the script exits non-zero.
#   FUZZ_TARGETS="manifest digest" FUZZ_SECONDS=300 bash Fuzz/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
swiftc="${SWIFTC:-swiftc}"
swift="${SWIFT:-swift}"
[ -x /opt/swift/usr/bin/swiftc ] && swiftc="${SWIFTC:-/opt/swift/usr/bin/swiftc}"
[ -x /opt/swift/usr/bin/swift ] && swift="${SWIFT:-/opt/swift/usr/bin/swift}"
seconds="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-reference digest manifest challenge agent config}"
work="$here/.work"
mkdir -p "$work"
sanitize=(-sanitize=fuzzer,address -parse-as-library -O -g)
# libFuzzer and ASan report crashes; Swift's own backtracer would only slow them down and then
# trip ASan itself while it reads the crashed process's memory.
export SWIFT_BACKTRACE=enable=no

# True when $1 is missing or older than any file under the other arguments.
stale() {
    local binary="$1"
    shift
    [ ! -e "$binary" ] || [ -n "$(find "$@" -newer "$binary" -type f -print -quit 2>/dev/null)" ]
}

build_oci() { # target binary
    "$swiftc" "${sanitize[@]}" "$root"/Sources/OCI/*.swift "$here/harness/$1.swift" -o "$2"
}

build_agent() { # binary
    local lib="$work/agent-lib"
    rm -rf "$lib" && mkdir -p "$lib"
    "$swiftc" "${sanitize[@]}" -wmo -module-name Transport -emit-module -emit-module-path "$lib/Transport.swiftmodule" \
        -c "$root/Sources/Transport/HTTPTransport.swift" "$root/Sources/Transport/RequestValidation.swift" \
        "$root/Sources/Transport/URLRedaction.swift" -o "$lib/Transport.o"
    "$swiftc" "${sanitize[@]}" -module-name AgentFuzz -I "$lib" \
        "$root/Sources/Remote/AgentProtocol.swift" "$root/Sources/Remote/SSHError.swift" "$here/harness/agent.swift" \
        "$lib/Transport.o" -o "$1"
}

build_config() { # binary
    local spm="$work/spm"
    local sources=("$root/Sources/Configuration" "$root/Sources/Agreement" "$root/Sources/OCI" "$root/Package.swift" "$here/harness/config.swift" "$here/run.sh")
    [ -e "$root/Package.resolved" ] && sources+=("$root/Package.resolved")
    if ! stale "$1" "${sources[@]}"; then
        echo "   (cached: nothing changed since $1 was linked)"
        return 0
    fi
    echo "   (SwiftPM build into $spm; the first one takes several minutes)"
    (cd "$root" && "$swift" build --scratch-path "$spm" -c release --target Configuration \
        -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address -Xcxx -fsanitize=fuzzer-no-link,address)
    local out="$spm/release"
    local objects=()
    for module in Configuration Agreement OCI TOMLKit CTOML Crypto CCryptoBoringSSL CCryptoBoringSSLShims CryptoBoringWrapper; do
        [ -d "$out/$module.build" ] || continue
        while IFS= read -r object; do objects+=("$object"); done < <(find "$out/$module.build" -name '*.o' | sort)
    done
    # TOMLKit's module imports the C module CTOML, whose map SwiftPM writes into the build folder.
    "$swiftc" "${sanitize[@]}" -module-name ConfigFuzz -I "$out/Modules" -Xcc "-fmodule-map-file=$out/CTOML.build/module.modulemap" \
        "$here/harness/config.swift" "${objects[@]}" -lstdc++ -o "$1"
}

status=0
for target in $targets; do
    binary="$work/fuzz-$target"
    echo "== $target: building"
    case "$target" in
    agent) build=(build_agent "$binary") ;;
    config) build=(build_config "$binary") ;;
    *) build=(build_oci "$target" "$binary") ;;
    esac
    if ! "${build[@]}" >"$work/$target.build.log" 2>&1; then
        grep -v "ld.gold: warning" "$work/$target.build.log" | tail -30
        exit 2
    fi
    grep -F "(cached" "$work/$target.build.log" || true
    mkdir -p "$work/$target"
    # Inputs that once crashed a target are replayed first (libFuzzer runs every corpus file).
    regressions=()
    [ -d "$here/regressions/$target" ] && regressions=("$here/regressions/$target")
    # Tokens of the input language, which libFuzzer splices into inputs (Fuzz/dict/<target>.dict).
    options=()
    [ -f "$here/dict/$target.dict" ] && options+=(-dict="$here/dict/$target.dict")
    # TOMLKit never frees a parsed table (TOMLTable has no deinit), the key list of TOMLTable.keys
    # (tableGetKeys) or the CTOMLParseError of TOMLTable(string:): every parse leaks its document.
    # That is bounded by the 1 MiB file limit and happens once per file per run, so leak reports
    # are off for this target, in libFuzzer and at exit (crashes, aborts and memory errors are still caught).
    # The leaks also grow the process by about 3 MB a second, hence the larger RSS limit.
    runner=(env)
    rss=2048
    if [ "$target" = config ]; then
        rss=6144
        options+=(-detect_leaks=0)
        runner=(env "ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}")
    fi
    echo "== $target: fuzzing for ${seconds}s"
    if ! "${runner[@]}" "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb="$rss" -max_len=65536 \
        -artifact_prefix="$work/crash-$target-" -print_final_stats=1 "${options[@]}" \
        "$work/$target" "$here/corpus/$target" "${regressions[@]}" 2>"$work/$target.log"; then
        echo "!! $target: crash or timeout; see $work/$target.log and $work/crash-$target-*"
        tail -40 "$work/$target.log"
        status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$work/$target.log" | tail -2
    fi
done
exit $status
