# Sourced by examples/demo.sh and bench/run.sh: a docker-registry, tinyproxy (HTTP CONNECT) and
# microsocks (SOCKS5) on 127.0.0.1 at free ports, and a vantages file that uses all three routes.
# The caller sets $work (a scratch directory) and the array `pids`, whose processes its EXIT trap
# kills. After `loopback_lab_start`: registry_port, http_port and socks_port are set.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

# loopback_lab_start [TINYPROXY_LOG_LEVEL]: starts the three servers and waits until they listen.
loopback_lab_start() {
    local log_level=${1:-Warning}
    registry_port=$(free_port); http_port=$(free_port); socks_port=$(free_port)
    cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: 127.0.0.1:$registry_port}
YAML
    docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 & pids+=($!)
    printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nLogLevel %s\nLogFile "%s"\nMaxClients 64\n' \
        "$http_port" "$log_level" "$work/tinyproxy.log" > "$work/tinyproxy.conf"
    tinyproxy -d -c "$work/tinyproxy.conf" >/dev/null 2>&1 & pids+=($!)
    microsocks -i 127.0.0.1 -p "$socks_port" >/dev/null 2>&1 & pids+=($!)
    wait_port "$registry_port" && wait_port "$http_port" && wait_port "$socks_port"
}

# loopback_lab_vantages PATH: writes a vantages file with this machine, the HTTP proxy and the SOCKS5 proxy.
loopback_lab_vantages() {
    cat > "$1" <<TOML
[[vantage]]
name = "direct"
kind = "local"

[[vantage]]
name = "http-proxy"
kind = "proxy"
proxy = "http://127.0.0.1:$http_port"

[[vantage]]
name = "socks"
kind = "proxy"
proxy = "socks5h://127.0.0.1:$socks_port"
TOML
}
