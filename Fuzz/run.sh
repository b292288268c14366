#!/usr/bin/env bash
# Builds each libFuzzer harness (the OCI sources compiled straight in, with -sanitize=fuzzer,address)
# and runs it for FUZZ_SECONDS (default 60) from the seed corpus in Fuzz/corpus/<target>/.
# Fuzz/regressions/<target>/ holds inputs that once failed; they are replayed on every run.
# New interesting inputs go to Fuzz/.work/<target>/ (not committed); a crash stops the run with
# the input saved as Fuzz/.work/crash-<target>-*, and the script exits non-zero.
#   FUZZ_TARGETS="manifest digest" FUZZ_SECONDS=300 bash Fuzz/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
swiftc="${SWIFTC:-swiftc}"
[ -x /opt/swift/usr/bin/swiftc ] && swiftc="${SWIFTC:-/opt/swift/usr/bin/swiftc}"
seconds="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-reference digest manifest challenge}"
work="$here/.work"
mkdir -p "$work"
status=0
for target in $targets; do
    binary="$work/fuzz-$target"
    echo "== $target: building"
    if ! "$swiftc" -sanitize=fuzzer,address -parse-as-library -O -g \
        "$root"/Sources/OCI/*.swift "$here/harness/$target.swift" -o "$binary" >"$work/$target.build.log" 2>&1; then
        grep -v "ld.gold: warning" "$work/$target.build.log" | tail -30
        exit 2
    fi
    mkdir -p "$work/$target"
    # Inputs that once crashed a target are replayed first (libFuzzer runs every corpus file).
    regressions=()
    [ -d "$here/regressions/$target" ] && regressions=("$here/regressions/$target")
    echo "== $target: fuzzing for ${seconds}s"
    if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work/crash-$target-" -print_final_stats=1 \
        "$work/$target" "$here/corpus/$target" "${regressions[@]}" 2>"$work/$target.log"; then
        echo "!! $target: crash or timeout; see $work/$target.log and $work/crash-$target-*"
        tail -40 "$work/$target.log"
        status=1
    else
        grep -E "stat::number_of_executed_units|cov:" "$work/$target.log" | tail -2
    fi
done
exit $status
