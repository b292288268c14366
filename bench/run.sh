#!/usr/bin/env bash
# make bench: 3tofu pull against skopeo, occystrap and the machine's floor, side by side in one run.
#
# Starts a registry, tinyproxy (HTTP CONNECT) and microsocks (SOCKS5) on 127.0.0.1 with free ports,
# generates synthetic images of incompressible data with examples/make-image.py, pushes them with
# skopeo, then times every tool BENCH_RUNS times, interleaved (the order rotates each run), each
# under /usr/bin/time -v for peak RSS, and again until a `sync` after it returns (3tofu fsyncs its
# output; the others leave theirs in the page cache). Prints a table; writes bench/out/results.json.
#
# Usage: bench/run.sh [path/to/3tofu]
# Environment:
#   BENCH_SIZE_MB=550        size of the main image (MiB, 8 layers of mixed sizes)
#   BENCH_RUNS=3             runs of each tool on the main and the many-small-layers image
#   BENCH_SMALL=1            also the many-small-layers image (100 layers of 100 KB)
#   BENCH_SCALING_MB=256     the scaling run's small image (3tofu and skopeo, BENCH_SCALING_RUNS each)
#   BENCH_SCALING=1          add the scaling run's large image, BENCH_SCALING_LARGE_MB=2048 (time, disk)
#   BENCH_SCALING_RUNS=1
#   BENCH_TOOLS="tofu-default tofu-every skopeo occystrap floor routes"   which to time on the main image
#     floor: openssl dgst -sha256 over the blob files, then cp of each (hash once, write once)
#     routes: curl of every layer over all three routes at once into /dev/null (the transfer alone)
#   BENCH_BASELINE=path/to/3tofu  also time another 3tofu build (base-default, base-every): before/after
#   BENCH_RECORD=1           also copy results.json to bench/results/<date>.json (for the README)
#   BENCH_SAVE_JSON=DIR      keep each tofu-default run's --json output in DIR (timings, bytes by route)
#   BENCH_KEEP=1             keep bench/out/work (registry storage, logs) afterwards
#   BENCH_LOOPBACK=1         the loopback part above (0 skips it: WAN only)
#   BENCH_WAN=1              the WAN part (0 skips it): routes shaped by bench/shaper.py relays
#                            (bandwidth cap and added delay per route), checked with curl first:
#                            home 40 MB/s 20 ms (direct), VPS tunnel 10 MB/s 100 ms (HTTP proxy),
#                            Tor 2 MB/s 400 ms (SOCKS5 proxy); scenarios wan-large, wan-one-layer
#                            (BENCH_WAN_MB in one layer), wan-medium,
#                            wan-small-layers, wan-slow-local (direct 3 MB/s, HTTP proxy 40 MB/s),
#                            wan-tor-fails (the Tor route resets after BENCH_WAN_TOR_DIES_MB)
#   BENCH_WAN_MB=200         size of wan-large, wan-slow-local and wan-tor-fails (MiB, 8 layers)
#   BENCH_WAN_MEDIUM_MB=20   size of wan-medium
#   BENCH_WAN_RUNS=3         runs of each tool per WAN scenario
#   BENCH_WAN_SCENARIOS="wan-large wan-one-layer wan-medium wan-small-layers wan-slow-local wan-tor-fails"
#   BENCH_WAN_TOR_DIES_MB=4  wan-tor-fails: MB the Tor route carries before it resets
#   BENCH_WAN_SCALE=1        multiplies every route's bandwidth (0.25: a slower WAN)
#   BENCH_WAN_TOLERANCE=0.3  how far a route's rate measured by the check may be from its setting
#                            (a loaded machine's relays fall short: the bench stops rather than
#                            time a WAN other than the one it reports)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
tofu=${1:-${THREETOFU_BIN:-$repo/.build/release/3tofu}}
tofu=$(cd "$(dirname "$tofu")" && pwd)/$(basename "$tofu")
size_mb=${BENCH_SIZE_MB:-550}
runs=${BENCH_RUNS:-3}
small=${BENCH_SMALL:-1}
scaling_mb=${BENCH_SCALING_MB:-256}
scaling_large_mb=${BENCH_SCALING_LARGE_MB:-2048}
scaling_runs=${BENCH_SCALING_RUNS:-1}
tools=${BENCH_TOOLS:-tofu-default tofu-every skopeo occystrap floor routes}
baseline=${BENCH_BASELINE:-}
if [ -n "$baseline" ]; then
    baseline=$(cd "$(dirname "$baseline")" && pwd)/$(basename "$baseline")
    [ -x "$baseline" ] || die "no 3tofu binary at $baseline (BENCH_BASELINE)"
    tools="$tools base-default base-every"
fi
out=$repo/bench/out
work=$out/work
samples=$out/samples.jsonl
pids=()

say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }
die() { echo "bench: $*" >&2; exit 2; }

[ -x "$tofu" ] || die "no 3tofu binary at $tofu; run 'make build' (or pass its path)"
for tool in docker-registry skopeo tinyproxy microsocks openssl python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed; run 'make deps'"
done
if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (/usr/bin/time, for peak RSS)"
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends time >/dev/null
fi

# occystrap, from PyPI, in a virtualenv of its own; the bench goes on without it if that fails.
occystrap=$here/.venv/bin/occystrap
occystrap_note=""
if [ ! -x "$occystrap" ]; then
    say "installing occystrap into bench/.venv"
    if ! { python3 -m venv "$here/.venv" && "$here/.venv/bin/pip" install -q occystrap; } >"$out.venv.log" 2>&1; then
        occystrap_note="occystrap could not be installed: $(tail -1 "$out.venv.log" 2>/dev/null)"
        echo "bench: $occystrap_note (continuing without it)" >&2
    fi
    rm -f "$out.venv.log"
fi
[ -x "$occystrap" ] || tools=${tools//occystrap/}

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
rm -rf "$work" "$samples"
mkdir -p "$work"

# shellcheck source=examples/loopback-lab.sh
source "$repo/examples/loopback-lab.sh"

say "starting a registry, tinyproxy and microsocks on 127.0.0.1"
loopback_lab_start Warning || die "the loopback servers did not start; see $work/*.log"
registry=127.0.0.1:$registry_port

loopback_lab_vantages "$work/vantages.toml"
vantages_file=$work/vantages.toml
# strict, but every vantage downloads and hashes every blob. (paranoid also sets that, but refuses
# plain-HTTP registries, and the bench registry is plain HTTP on loopback.)
cat > "$work/every-vantage.toml" <<TOML
name = "bench-every-vantage"
description = "strict, plus every vantage downloads and hashes every blob; plain HTTP allowed (loopback bench)"
min_agreeing = 3
max_unavailable = 0
blob_verification = "every-vantage"
require_route_kinds = []
allow_insecure_registries = true
TOML

# make_image NAME LAYER_SIZES_JSON: generates the image and pushes it as $registry/bench/NAME:1.
make_image() {
    local name=$1 layers=$2 layout=$work/layout-$1
    echo '{"dir": "'"$layout"'", "layers": '"$layers"', "content": "incompressible", "mediaTypes": "docker",
      "platforms": [{"os": "linux", "architecture": "amd64"}], "index": true, "attestations": false,
      "seed": 11, "gzipLevel": 1, "refName": "1"}' | python3 "$repo/examples/make-image.py" > "$work/$name.summary.json"
    skopeo copy --quiet --insecure-policy --all --preserve-digests --dest-tls-verify=false \
        "oci:$layout" "docker://$registry/bench/$name:1"
    rm -rf "$layout"
    python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(open(sys.argv[1]))["images"][0]["layers"]]' \
        "$work/$name.summary.json" > "$work/$name.digests"
}
# eight layers of mixed sizes adding up to $1 MiB
mixed_layers() {
    python3 -c 'import json,sys; t=int(sys.argv[1])<<20
f=[0.32,0.22,0.15,0.12,0.09,0.06,0.03,0.01]
print(json.dumps([int(t*x) for x in f]))' "$1"
}

say "generating and pushing the images (incompressible data, gzip level 1)"
[ "${BENCH_LOOPBACK:-1}" = 1 ] && make_image main "$(mixed_layers "$size_mb")"
[ "${BENCH_LOOPBACK:-1}" = 1 ] && [ "$small" = 1 ] && make_image small "$(python3 -c 'print([100000]*100)')"
scaling_sizes=""
if [ "$scaling_mb" != 0 ] && [ "${BENCH_LOOPBACK:-1}" = 1 ]; then scaling_sizes=$scaling_mb; fi
if [ "${BENCH_SCALING:-0}" = 1 ]; then scaling_sizes="$scaling_sizes $scaling_large_mb"; fi
for mb in $scaling_sizes; do make_image "scale$mb" "$(mixed_layers "$mb")"; done

# The blob files the registry serves (config and layers of an image), for the floor.
blob_files() {
    python3 - "$work/$1.summary.json" "$work/registry/docker/registry/v2/blobs/sha256" <<'PY'
import json, sys
summary, root = json.load(open(sys.argv[1])), sys.argv[2]
image = summary["images"][0]
for d in [image["config"]] + image["layers"]:
    h = d["digest"][7:]
    print(f"{root}/{h[:2]}/{h}/data")
PY
}

# measure IMAGE TOOL RUN: runs one tool once under /usr/bin/time -v, appends a sample line.
measure() {
    local image=$1 tool=$2 run=$3 ref=$registry/bench/$1:1 dir=$work/run
    rm -rf "$dir"; mkdir -p "$dir/cache" "$dir/tmp" "$dir/floor"
    local -a cmd
    case $tool in
    tofu-default) cmd=("$tofu" pull "$ref" --vantages "$vantages_file" --insecure-registry "$registry" --output "$dir/out.tar" --json) ;;
    tofu-every) cmd=("$tofu" pull "$ref" --vantages "$vantages_file" --insecure-registry "$registry" \
                     --policy "$work/every-vantage.toml" --output "$dir/out.tar") ;;
    base-default) cmd=("$baseline" pull "$ref" --vantages "$vantages_file" --insecure-registry "$registry" --output "$dir/out.tar") ;;
    base-every) cmd=("$baseline" pull "$ref" --vantages "$vantages_file" --insecure-registry "$registry" \
                     --policy "$work/every-vantage.toml" --output "$dir/out.tar") ;;
    skopeo) cmd=(skopeo copy --quiet --insecure-policy --src-tls-verify=false "docker://$ref" "docker-archive:$dir/out.tar:$ref") ;;
    occystrap) cmd=("$occystrap" --insecure --os linux --architecture amd64 process "registry://$ref" "tar://$dir/out.tar") ;;
    floor) mapfile -t files < <(blob_files "$image")
           # hash every blob once, then copy each once (the registry names them all "data")
           cmd=(sh -c 'openssl dgst -sha256 "$@" >/dev/null && for f; do h=${f%/data}; cp "$f" "$0/${h##*/}"; done' "$dir/floor" "${files[@]}") ;;
    # every layer over each of the three routes at once (4 at a time per route, like 3tofu), into
    # /dev/null: what moving the bytes costs on this machine, before any hashing or writing
    routes) cmd=(sh -c 'for route in "" "$2" "$3"; do
                     xargs -P4 -I{} curl -sf $route -o /dev/null "http://$1/v2/bench/$4/blobs/{}" < "$0" &
                 done; wait' "$work/$image.digests" "$registry" "-xhttp://127.0.0.1:$http_port" "-xsocks5h://127.0.0.1:$socks_port" "$image") ;;
    *) die "unknown tool $tool" ;;
    esac
    sync  # the previous tool's dirty pages are written back before the clock starts
    local start end status=0 load
    load=$(cut -d' ' -f1 /proc/loadavg)
    start=$(date +%s%N)
    THREETOFU_CACHE=$dir/cache TMPDIR=$dir/tmp /usr/bin/time -v -o "$dir/time.txt" "${cmd[@]}" >"$dir/stdout" 2>"$dir/stderr" || status=$?
    end=$(date +%s%N)
    # Also timed: until the output is on disk. 3tofu fsyncs what it writes; skopeo, occystrap and
    # the floor's cp leave it in the page cache when they exit.
    sync
    local synced; synced=$(date +%s%N)
    local bytes=0
    if [ -f "$dir/out.tar" ]; then bytes=$(stat -c %s "$dir/out.tar"); else bytes=$(du -sb "$dir/floor" | cut -f1); fi
    python3 - "${label:-$image}" "$tool" "$run" "$start" "$end" "$status" "$bytes" "$dir/time.txt" "$dir/stderr" "$load" "$synced" "$dir/stdout" >>"$samples" <<'PY'
import json, os, sys
image, tool, run, start, end, status, size, timefile, stderr, load, synced, routes_file = sys.argv[1:]
fields = {}
for line in open(timefile, errors="replace"):
    key, _, value = line.strip().rpartition(": ")
    fields[key] = value
sample = {"image": image, "tool": tool, "run": int(run), "status": int(status),
          "wall": (int(end) - int(start)) / 1e9, "wallSynced": (int(synced) - int(start)) / 1e9,
          "user": float(fields.get("User time (seconds)", 0)), "sys": float(fields.get("System time (seconds)", 0)),
          "maxRSSKiB": int(fields.get("Maximum resident set size (kbytes)", 0)), "outputBytes": int(size),
          "load1": float(load)}
if int(status) != 0:
    sample["error"] = open(stderr, errors="replace").read()[-600:]
if tool.startswith(("tofu", "base")) and int(status) == 0 and os.path.exists(routes_file):
    # 3tofu --json: the bytes each route carried (when the build reports them)
    try:
        carried = json.load(open(routes_file)).get("blobRoutes")
        if carried:
            sample["routeBytes"] = {r["vantage"]: r["bytes"] for r in carried}
    except (ValueError, KeyError, TypeError):
        pass
print(json.dumps(sample))
PY
    local last; last=$(tail -1 "$samples")
    python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print("  %16s run %d  %-13s %7.2f s %7.1f MiB  exit %d" % (s["image"], s["run"], s["tool"], s["wall"], s["maxRSSKiB"]/1024, s["status"]))' "$last" >&2
    if [ "$status" != 0 ]; then sed 's/^/      /' "$dir/stderr" | tail -5 >&2; fi
    if [ "$tool" = tofu-default ] && [ "$run" = 1 ] && [ "$status" = 0 ] && [ -z "${label:-}" ]; then
        # The output is a docker-archive skopeo can read (checked once, not timed).
        skopeo inspect --raw "docker-archive:$dir/out.tar" >/dev/null || die "skopeo cannot read 3tofu's output for $image"
    fi
    # BENCH_SAVE_JSON=DIR: keep each 3tofu run's --json output there (route timings, bytes by route)
    if [ -n "${BENCH_SAVE_JSON:-}" ] && [ "$tool" = tofu-default ]; then
        mkdir -p "$BENCH_SAVE_JSON" && cp "$dir/stdout" "$BENCH_SAVE_JSON/${label:-$image}-$tool-$run.json"; cp "$dir/stderr" "$BENCH_SAVE_JSON/${label:-$image}-$tool-$run.stderr"
    fi
    rm -rf "$dir"
}

# series IMAGE RUNS TOOLS...: every tool once per run, the order rotating from run to run.
series() {
    local image=$1 n=$2; shift 2
    local -a list=("$@")
    local run i k
    for run in $(seq 1 "$n"); do
        for i in $(seq 0 $((${#list[@]} - 1))); do
            k=$(( (i + run - 1) % ${#list[@]} ))
            measure "$image" "${list[$k]}" "$run"
        done
    done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "${BENCH_LOOPBACK:-1}" = 1 ]; then
# shellcheck disable=SC2086
{ say "main image: $size_mb MiB in 8 layers, $runs runs"; series main "$runs" $tools; }
fi
if [ "${BENCH_LOOPBACK:-1}" = 1 ] && [ "$small" = 1 ]; then
    small_tools=${tools//floor/}; small_tools=${small_tools//routes/}
    # shellcheck disable=SC2086
    { say "many small layers: 100 x 100 KB, $runs runs"; series small "$runs" $small_tools; }
fi
for mb in $scaling_sizes; do
    [ "${BENCH_LOOPBACK:-1}" = 1 ] || break
    say "scaling: $mb MiB, $scaling_runs run(s)"
    series "scale$mb" "$scaling_runs" tofu-default tofu-every skopeo
done
wan_json='{}'
if [ "${BENCH_WAN:-1}" = 1 ]; then
    # shellcheck source=bench/wan.sh
    source "$here/wan.sh"
    wan_run
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$out/meta.json" <<PY
import json, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as e: return str(e)
json.dump({
  "sizeMiB": $size_mb, "runs": $runs, "scalingRuns": $scaling_runs,
  "loadBefore": "$load_before", "loadAfter": "$load_after",
  "machine": {"nproc": sh("nproc"), "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"),
              "shaNI": "sha_ni" in open("/proc/cpuinfo").read(), "memory": sh("free -h | awk '/^Mem:/{print \$2}'"),
              "kernel": sh("uname -r"), "filesystem": sh("findmnt -no FSTYPE --target $out")},
  "versions": {"3tofu": sh("cd $repo && git describe --always --dirty 2>/dev/null"), "skopeo": sh("skopeo --version"),
               "occystrap": sh("$here/.venv/bin/pip show occystrap 2>/dev/null | sed -n 's/^Version: //p'"),
               "openssl": sh("openssl version"), "registry": sh("docker-registry --version")},
  "notes": [n for n in ["$occystrap_note"] if n],
  "wan": json.loads('''$wan_json'''),
}, open(sys.argv[1], "w"), indent=2)
PY
python3 "$here/report.py" "$samples" "$out/meta.json" "$out/results.json"
if [ "${BENCH_RECORD:-0}" = 1 ]; then
    mkdir -p "$here/results"
    cp "$out/results.json" "$here/results/$(date -u +%Y-%m-%d).json"
    echo "recorded bench/results/$(date -u +%Y-%m-%d).json" >&2
fi
