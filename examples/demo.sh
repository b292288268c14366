#!/usr/bin/env bash
# The 3tofu demo, entirely on loopback: a real registry, an HTTP proxy and a SOCKS5 proxy,
# a sample image pushed with skopeo, and a three-vantage pull that agrees and writes a
# docker-archive. Everything it starts is stopped and removed on exit.
# Usage: examples/demo.sh [path/to/3tofu]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tofu=${1:-$here/../.build/release/3tofu}
tofu=$(cd "$(dirname "$tofu")" && pwd)/$(basename "$tofu")
work=$(mktemp -d -t 3tofu-demo.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
# shellcheck source=examples/loopback-lab.sh
source "$here/loopback-lab.sh"

step "Starting a registry, tinyproxy and microsocks on 127.0.0.1"
loopback_lab_start Info
echo "registry 127.0.0.1:$registry_port, http proxy :$http_port, socks5 proxy :$socks_port"

step "Pushing a sample image (3 layers, linux/amd64 and linux/arm64) with skopeo"
echo '{"dir": "'"$work/layout"'", "layers": [2000000, 300000, 40000], "content": "random", "mediaTypes": "oci",
  "platforms": [{"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64", "variant": "v8"}],
  "index": true, "attestations": true, "seed": 7, "gzipLevel": 6, "refName": "latest"}' \
  | python3 "$here/make-image.py" >/dev/null
image="127.0.0.1:$registry_port/demo/hello:1.0"
skopeo copy --quiet --insecure-policy --all --preserve-digests --dest-tls-verify=false "oci:$work/layout" "docker://$image"
echo "pushed $image"

loopback_lab_vantages "$work/vantages.toml"
echo "vantages file:"; sed 's/^/    /' "$work/vantages.toml"

export THREETOFU_CACHE="$work/cache"
step "3tofu pull through three vantages (policy: strict)"
echo "\$ 3tofu pull $image --vantages vantages.toml --insecure-registry 127.0.0.1:$registry_port --output hello.tar"
"$tofu" pull "$image" --vantages "$work/vantages.toml" --insecure-registry "127.0.0.1:$registry_port" --output "$work/hello.tar"
echo "exit status: $?"

step "Checking the output with skopeo (a tool nobody here wrote)"
skopeo inspect "docker-archive:$work/hello.tar" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("architecture:", d["Architecture"], "| layers:", len(d["Layers"]))'
echo "requests the HTTP proxy carried: $(grep -c 'GET\|CONNECT' "$work/tinyproxy.log" || true)"

step "Pulling again: every blob is already verified in the cache"
"$tofu" pull "$image" --vantages "$work/vantages.toml" --insecure-registry "127.0.0.1:$registry_port" --output "$work/again.tar" --json \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print("layers downloaded:", d["layersDownloaded"], "| from cache:", d["layersCached"])'

# An SSH vantage: a local sshd with its own host and user keys stands in for a remote host;
# curl on that host does the fetching (agent = "curl": nothing installed there).
ssh_vantage_demo() {
    step "An SSH vantage: a local sshd with its own keys; curl on the far side fetches"
    local dir="$work/ssh" port user
    mkdir -p "$dir"; [ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
    port=$(free_port); user=$(id -un)
    ssh-keygen -q -t ed25519 -N "" -C demo-host -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N "" -C demo-user -f "$dir/id_ed25519"
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $dir/host_key" "AuthorizedKeysFile $dir/authorized_keys" \
      "PidFile $dir/sshd.pid" "UsePAM no" "StrictModes no" "PermitRootLogin yes" "PasswordAuthentication no" > "$dir/sshd_config"
    /usr/sbin/sshd -D -e -f "$dir/sshd_config" >"$dir/sshd.log" 2>&1 & pids+=($!)
    wait_port "$port"
    echo "\$ ssh-keyscan -p $port 127.0.0.1 >> known_hosts    # then compare with: ssh-keygen -lf $dir/host_key.pub"
    ssh-keyscan -p "$port" 127.0.0.1 2>/dev/null > "$dir/known_hosts"
    ssh-keygen -lf "$dir/host_key.pub" | sed 's/^/    host key: /'
    cat > "$work/ssh-vantages.toml" <<TOML
[[vantage]]
name = "direct"
kind = "local"

[[vantage]]
name = "socks"
kind = "proxy"
proxy = "socks5h://127.0.0.1:$socks_port"

[[vantage]]
name = "ssh-host"
kind = "ssh"
host = "127.0.0.1"
port = $port
user = "$user"
identity = "$dir/id_ed25519"
known_hosts = "$dir/known_hosts"
agent = "curl"
TOML
    echo "vantages file (local, proxy, ssh):"; sed 's/^/    /' "$work/ssh-vantages.toml"
    "$tofu" vantages check --vantages "$work/ssh-vantages.toml" --registry "127.0.0.1:$registry_port" --insecure-registry "127.0.0.1:$registry_port"
    echo "\$ 3tofu pull $image --vantages ssh-vantages.toml --insecure-registry 127.0.0.1:$registry_port --output via-ssh.tar"
    "$tofu" pull "$image" --vantages "$work/ssh-vantages.toml" --insecure-registry "127.0.0.1:$registry_port" --output "$work/via-ssh.tar"
    skopeo inspect "docker-archive:$work/via-ssh.tar" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("skopeo: architecture", d["Architecture"], "| layers:", len(d["Layers"]))'
    echo "and with a known_hosts entry holding another key (as if someone intercepted the SSH connection):"
    ssh-keygen -q -t ed25519 -N "" -f "$dir/impostor"
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/impostor.pub")" > "$dir/known_hosts"
    set +e
    "$tofu" pull "$image" --vantages "$work/ssh-vantages.toml" --insecure-registry "127.0.0.1:$registry_port" --output "$work/refused.tar" 2>&1 \
      | grep -E "ssh-host|verdict" | sed 's/^/    /'
    local status=${PIPESTATUS[0]}
    set -e
    echo "exit status: $status (3: the SSH host key changed, that vantage is refused; nothing written)"
    if [ "$status" -ne 3 ] || [ -e "$work/refused.tar" ]; then echo "demo failed: expected exit 3 and no refused.tar" >&2; exit 1; fi
}
ssh_vantage_demo

step "The same pull with one route through an attacker"
echo "mitmproxy with examples/attacker.py takes over the http-proxy route: it answers tag 1.0 with another"
echo "image's index, and fixes Docker-Content-Digest and Content-Type to match the bytes it serves."
echo '{"dir": "'"$work/evil-layout"'", "layers": [2000000, 300000, 40000], "content": "random", "mediaTypes": "oci",
  "platforms": [{"os": "linux", "architecture": "amd64"}, {"os": "linux", "architecture": "arm64", "variant": "v8"}],
  "index": true, "attestations": true, "seed": 666, "gzipLevel": 6, "refName": "latest"}' \
  | python3 "$here/make-image.py" >"$work/evil-summary.json"
skopeo copy --quiet --insecure-policy --all --preserve-digests --dest-tls-verify=false "oci:$work/evil-layout" "docker://127.0.0.1:$registry_port/demo/hello:evil"
evil_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["top"]["digest"])' "$work/evil-summary.json")
cp "$work/evil-layout/blobs/sha256/${evil_digest#sha256:}" "$work/evil-index.json"
echo "pushed the attacker's image as demo/hello:evil ($evil_digest)"
mitm_port=$(free_port)
mitmdump --listen-host 127.0.0.1 --listen-port "$mitm_port" --set confdir="$work/mitmproxy" -s "$here/attacker.py" \
  --set tofu_mode=swap-manifest --set tofu_target_tag=1.0 --set tofu_replacement="$work/evil-index.json" \
  --set tofu_registry="127.0.0.1:$registry_port" --set tofu_log="$work/attacker.log" \
  --set termlog_verbosity=error --set flow_detail=0 >"$work/mitmdump.log" 2>&1 & pids+=($!)
wait_port "$mitm_port"
sed "s|http://127.0.0.1:$http_port|http://127.0.0.1:$mitm_port|" "$work/vantages.toml" > "$work/attack-vantages.toml"
echo "vantages file (http-proxy now goes through mitmproxy on :$mitm_port):"; sed 's/^/    /' "$work/attack-vantages.toml"
echo "\$ 3tofu pull $image --vantages attack-vantages.toml --insecure-registry 127.0.0.1:$registry_port --output attacked.tar --report attack-report.json"
set +e
"$tofu" pull "$image" --vantages "$work/attack-vantages.toml" --insecure-registry "127.0.0.1:$registry_port" \
  --output "$work/attacked.tar" --report "$work/attack-report.json"
status=$?
set -e
echo "exit status: $status (1: the vantages disagree)"
if [ "$status" -ne 1 ]; then echo "demo failed: expected exit status 1 from the attacked pull, got $status" >&2; exit 1; fi
if [ -e "$work/attacked.tar" ]; then echo "demo failed: the attacked pull wrote attacked.tar" >&2; exit 1; fi
if [ ! -s "$work/attacker.log" ]; then echo "demo failed: the attacker rewrote nothing (see $work/mitmdump.log)" >&2; exit 1; fi
echo "nothing was written at attacked.tar"
echo "what the attacker rewrote:"; sed 's/^/    /' "$work/attacker.log"
echo "the dissent, from attack-report.json:"
tofu_help=$("$tofu" --help)
case "$tofu_help" in
*"  report "*) "$tofu" report show "$work/attack-report.json" ;;
*) python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"verdict": r["verdict"], "reason": r["reason"],
                  "disagreeing": [c for c in r["comparisons"] if not c["agree"]]}, indent=2, sort_keys=True))' "$work/attack-report.json" ;;
esac

step "Done; stopping the servers and removing $work"
