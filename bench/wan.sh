# Sourced by bench/run.sh (after the loopback part): 3tofu over a shaped WAN, against skopeo over the
# best route and against the limit. Uses run.sh's registry, measure(), series(), make_image and $work.
#
# Each route is a bench/shaper.py relay (bandwidth cap and added delay):
#   direct      relay in front of the registry; the image reference names the relay's port
#   http-proxy  relay in front of a tinyproxy whose outgoing connections leave from 127.0.0.3
#   socks       relay in front of a microsocks whose outgoing connections leave from 127.0.0.4
# The direct relay passes connections from 127.0.0.3 and 127.0.0.4 unshaped: a proxy route is
# shaped once, by the relay in front of its proxy. Before timing, each route is checked with curl:
# a blob's transfer rate within 30% of the route's bandwidth, its first byte no sooner than its RTT.
#
# The limit of a scenario: the blobs' bytes ÷ the sum of the routes' bandwidths, plus three round
# trips of the slowest route that must answer (token, manifest, config: the verdict waits for them).

wan_port_registry=""
wan_shaper_pid=""

wan_start_proxies() {
    wan_http_port=$(free_port); wan_socks_port=$(free_port)
    printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nBind 127.0.0.3\nLogLevel Warning\nLogFile "%s"\nMaxClients 64\n' \
        "$wan_http_port" "$work/wan-tinyproxy.log" > "$work/wan-tinyproxy.conf"
    tinyproxy -d -c "$work/wan-tinyproxy.conf" >/dev/null 2>&1 & pids+=($!)
    microsocks -i 127.0.0.1 -p "$wan_socks_port" -b 127.0.0.4 >/dev/null 2>&1 & pids+=($!)
    wait_port "$wan_http_port" && wait_port "$wan_socks_port"
}

# wan_routes "DIRECT_MBPS DIRECT_RTT HTTP_MBPS HTTP_RTT SOCKS_MBPS SOCKS_RTT [SOCKS_DIES_BYTES]":
# (re)starts the relays with that shaping; sets wan_direct/wan_http/wan_socks ports and writes the
# vantages file.
wan_routes() {
    read -r d_mbps d_rtt h_mbps h_rtt s_mbps s_rtt s_dies <<<"$1"
    [ -n "$wan_shaper_pid" ] && { kill "$wan_shaper_pid" 2>/dev/null || true; wait "$wan_shaper_pid" 2>/dev/null || true; }
    wan_direct=$(free_port); wan_http=$(free_port); wan_socks=$(free_port)
    local scale=${BENCH_WAN_SCALE:-1}
    python3 - "$work/wan-routes.json" <<PY
import json, sys
s = float("$scale")
json.dump({"routes": [
  {"name": "direct", "listen": $wan_direct, "upstream": $registry_port, "mbps": $d_mbps * s, "rtt_ms": $d_rtt,
   "pass_from": ["127.0.0.3", "127.0.0.4"]},
  {"name": "http-proxy", "listen": $wan_http, "upstream": $wan_http_port, "mbps": $h_mbps * s, "rtt_ms": $h_rtt},
  {"name": "socks", "listen": $wan_socks, "upstream": $wan_socks_port, "mbps": $s_mbps * s, "rtt_ms": $s_rtt,
   "die_after_bytes": int(${s_dies:-0})},
]}, open(sys.argv[1], "w"))
PY
    python3 "$here/shaper.py" "$work/wan-routes.json" >"$work/wan-shaper.log" 2>&1 & wan_shaper_pid=$!; pids+=($!)
    wait_port "$wan_direct" && wait_port "$wan_http" && wait_port "$wan_socks" || die "the route relays did not start; see $work/wan-shaper.log"
    cat > "$work/wan-vantages.toml" <<TOML
[[vantage]]
name = "direct"
kind = "local"

[[vantage]]
name = "http-proxy"
kind = "proxy"
proxy = "http://127.0.0.1:$wan_http"

[[vantage]]
name = "socks"
kind = "proxy"
proxy = "socks5h://127.0.0.1:$wan_socks"
TOML
}

# wan_check IMAGE "SHAPING": each route, with curl, fetches the image's largest layer through the
# relays (repeatedly, ~1 s of transfer); the rate must be within 30% of the route's bandwidth (only under it when the check is
# shorter than 0.5 s) and the first byte no sooner than its RTT. A route set up to die is checked
# before it could (a short range of the blob).
wan_check() {
    local image=$1 digest scale=${BENCH_WAN_SCALE:-1}
    read -r d_mbps d_rtt h_mbps h_rtt s_mbps s_rtt s_dies <<<"$2"
    digest=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["images"][0]["layers"]; print(max(l, key=lambda x: x["size"])["digest"])' "$work/$image.summary.json")
    local route args mbps rtt url="http://127.0.0.1:$wan_direct/v2/bench/$image/blobs/$digest"
    for route in direct http-proxy socks; do
        case $route in
        direct) args=(); mbps=$d_mbps; rtt=$d_rtt ;;
        http-proxy) args=(-x "http://127.0.0.1:$wan_http"); mbps=$h_mbps; rtt=$h_rtt ;;
        socks) args=(-x "socks5h://127.0.0.1:$wan_socks"); mbps=$s_mbps; rtt=$s_rtt ;;
        esac
        # about 1 s of transfer per route: the layer as many times as that takes, over one
        # connection (a route set up to die: a range of it, half of what it carries before dying)
        local bytes layer_size count out
        layer_size=$(python3 -c 'import json,sys; l=json.load(open(sys.argv[1]))["images"][0]["layers"]; print(max(x["size"] for x in l))' "$work/$image.summary.json")
        bytes=$(python3 -c "print(int($mbps * $scale * 1e6))")
        local -a urls=()
        if [ "$route" = socks ] && [ "${s_dies:-0}" != 0 ]; then
            bytes=$(python3 -c "print(int(min($bytes, $layer_size, ${s_dies} // 2)))")
            urls=(-o /dev/null -r "0-$((bytes - 1))" "$url")
        else
            count=$(( (bytes + layer_size - 1) / layer_size ))
            for _ in $(seq 1 "$count"); do urls+=(-o /dev/null "$url"); done
        fi
        out=$(curl -sf "${args[@]}" -w '%{size_download} %{time_starttransfer} %{time_total}\n' "${urls[@]}") \
            || die "route $route: curl could not fetch through the relay (see $work/wan-shaper.log)"
        python3 - "$route" "$out" "$mbps" "$rtt" "$scale" "${BENCH_WAN_TOLERANCE:-0.3}" <<'PY' || die "route $route is not shaped as set up"
import sys
route, mbps, rtt = sys.argv[1], float(sys.argv[3]) * float(sys.argv[5]), float(sys.argv[4]) / 1000
transfers = [[float(x) for x in line.split()] for line in sys.argv[2].splitlines() if line.strip()]
size = sum(t[0] for t in transfers)
first = transfers[0][1]
# each transfer's body after its first byte (a request's round trips are not the link's rate)
rate = size / max(sum(t[2] - t[1] for t in transfers), 1e-6) / 1e6
long_enough = size / (mbps * 1e6) >= 0.5
print(f"  route {route:<10} {rate:6.1f} MB/s (set {mbps:g}) over {size / 1e6:.1f} MB, first byte {first*1000:5.0f} ms (RTT set {rtt*1000:g} ms)"
      + ("" if long_enough else " (short check: the rate's upper bound only)"), file=sys.stderr)
tolerance = float(sys.argv[6])
if first < rtt or rate > (1 + tolerance) * mbps or (long_enough and rate < (1 - tolerance) * mbps):
    print(f"bench: route {route} measured {rate:.1f} MB/s and {first*1000:.0f} ms to the first byte; set up as {mbps:g} MB/s and {rtt*1000:g} ms", file=sys.stderr)
    sys.exit(1)
PY
    done
}

# wan_scenario NAME IMAGE "SHAPING": checks the routes, then times 3tofu and skopeo over them.
wan_scenarios_json=""
wan_scenario() {
    local name=$1 image=$2 shaping=$3
    say "WAN $name: image $image; routes (MB/s ms) direct $(cut -d' ' -f1-2 <<<"$shaping"), http-proxy $(cut -d' ' -f3-4 <<<"$shaping"), socks $(cut -d' ' -f5-7 <<<"$shaping")"
    wan_routes "$shaping"
    # The check uses a relay of its own: a route set up to die must not die in the check.
    # (checked with the largest layer at hand: 100 KB requests measure requests, not the link)
    local check_image=$image candidate
    for candidate in wanmedium wanlarge; do
        [ "$image" = small ] && [ -f "$work/$candidate.summary.json" ] && check_image=$candidate
    done
    wan_check "$check_image" "$shaping"
    wan_routes "$shaping"
    local saved_registry=$registry saved_vantages=$vantages_file
    registry=127.0.0.1:$wan_direct; vantages_file=$work/wan-vantages.toml; label=$name
    local wan_tools=${BENCH_WAN_TOOLS:-tofu-default skopeo}
    [ -n "$baseline" ] && wan_tools="$wan_tools base-default"
    local run tool
    for run in $(seq 1 "${BENCH_WAN_RUNS:-3}"); do
        for tool in $wan_tools; do
            # fresh relays per run: a route set up to die dies in every run, not only the first
            wan_routes "$shaping"; registry=127.0.0.1:$wan_direct
            measure "$image" "$tool" "$run"
        done
    done
    registry=$saved_registry; vantages_file=$saved_vantages; unset label
    local bytes
    bytes=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["images"][0]; print(sum(d["size"] for d in [i["config"]] + i["layers"]))' "$work/$image.summary.json")
    wan_scenarios_json="$wan_scenarios_json\"$name\": {\"image\": \"$image\", \"bytes\": $bytes, \"shaping\": \"$shaping\", \"scale\": ${BENCH_WAN_SCALE:-1}},"
}

wan_run() {
    local large=${BENCH_WAN_MB:-200} medium=${BENCH_WAN_MEDIUM_MB:-20} dies=${BENCH_WAN_TOR_DIES_MB:-4}
    local scenarios=${BENCH_WAN_SCENARIOS:-wan-large wan-one-layer wan-medium wan-small-layers wan-slow-local wan-tor-fails}
    wan_start_proxies || die "the WAN proxies did not start"
    say "WAN: generating and pushing the images ($large MiB, $medium MiB, 100 x 100 KB)"
    [[ " $scenarios " =~ \ wan-(large|slow-local|tor-fails)\  ]] && make_image wanlarge "$(mixed_layers "$large")"
    [[ " $scenarios " == *" wan-medium "* ]] && make_image wanmedium "$(mixed_layers "$medium")"
    # One large layer (many images are one): only byte ranges over several routes share it.
    [[ " $scenarios " == *" wan-one-layer "* ]] && make_image wanone "[$((large << 20))]"
    [[ " $scenarios " == *" wan-small-layers "* ]] && { [ -f "$work/small.summary.json" ] || make_image small "$(python3 -c 'print([100000]*100)')"; }
    local home="40 20" vps="10 100" tor="2 400"
    for scenario in $scenarios; do
        case $scenario in
        wan-large) wan_scenario "$scenario" wanlarge "$home $vps $tor" ;;
        wan-medium) wan_scenario "$scenario" wanmedium "$home $vps $tor" ;;
        wan-one-layer) wan_scenario "$scenario" wanone "$home $vps $tor" ;;
        wan-small-layers) wan_scenario "$scenario" small "$home $vps $tor" ;;
        wan-slow-local) wan_scenario "$scenario" wanlarge "3 20 40 30 $tor" ;;
        wan-tor-fails) wan_scenario "$scenario" wanlarge "$home $vps $tor $((dies * 1000000))" ;;
        *) die "unknown WAN scenario $scenario (BENCH_WAN_SCENARIOS)" ;;
        esac
    done
    [ -n "$wan_shaper_pid" ] && { kill "$wan_shaper_pid" 2>/dev/null || true; }
    wan_json="{${wan_scenarios_json%,}}"
}
