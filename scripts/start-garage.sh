#!/usr/bin/env bash
# Starts a single-node Garage on loopback for the S3 store tests and prints `export` lines:
#
#     eval "$(scripts/start-garage.sh /tmp/garage)"
#     cargo test --test stores
#
# DIR receives garage.toml, meta/, data/, garage.log and garage.pid. Running the script
# again with the same DIR reuses the running server, key and bucket. Stop the server with
# `kill "$(cat DIR/garage.pid)"`. Progress goes to stderr, only the exports to stdout.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
mkdir -p "$1"
dir="$(cd "$1" && pwd)"
chmod 700 "$dir"
config="$dir/garage.toml"
pid_file="$dir/garage.pid"
log="$dir/garage.log"
bucket="callvault-test"
key_name="callvault-test-key"
region="garage"

garage_bin="$(command -v garage || true)"
if [ -z "$garage_bin" ]; then
    garage_bin="${CARGO_HOME:-$HOME/.cargo}/bin/garage"
fi
if [ ! -x "$garage_bin" ]; then
    echo "garage not found; run scripts/install-garage.sh first" >&2
    exit 1
fi
g() { "$garage_bin" -c "$config" "$@"; }

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Three consecutive free loopback ports: S3 API, RPC, admin API.
pick_ports() {
    local base
    for _ in $(seq 1 50); do
        base=$((20000 + RANDOM % 40000))
        if port_is_free "$base" && port_is_free $((base + 1)) && port_is_free $((base + 2)); then
            echo "$base"
            return 0
        fi
    done
    echo "no free loopback ports found" >&2
    return 1
}

write_config() {
    local base secret
    base="$(pick_ports)"
    secret="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    mkdir -p "$dir/meta" "$dir/data"
    umask 077
    cat > "$config" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "lmdb"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:$((base + 1))"
rpc_public_addr = "127.0.0.1:$((base + 1))"
rpc_secret = "$secret"

[s3_api]
s3_region = "$region"
api_bind_addr = "127.0.0.1:$base"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$((base + 2))"
TOML
}

s3_port() { sed -n 's/^api_bind_addr = "127\.0\.0\.1:\([0-9]*\)"$/\1/p' "$config" | head -n 1; }

server_running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

start_server() {
    echo "starting garage ($garage_bin), log in $log" >&2
    nohup "$garage_bin" -c "$config" server </dev/null >>"$log" 2>&1 &
    echo $! > "$pid_file"
}

wait_until_up() {
    for _ in $(seq 1 60); do
        if g status >/dev/null 2>&1; then
            return 0
        fi
        server_running || { echo "garage exited; see $log" >&2; tail -n 20 "$log" >&2; return 1; }
        sleep 1
    done
    echo "garage did not become ready in 60 s; see $log" >&2
    return 1
}

apply_layout() {
    if g layout show 2>/dev/null | grep -qiE 'current cluster layout version: *[1-9]'; then
        return 0
    fi
    local node
    node="$(g node id -q 2>/dev/null | head -n 1)"
    node="${node%%@*}"
    g layout assign -z dc1 -c 1G "$node" >&2
    g layout apply --version 1 >&2
}

wait_for_s3() {
    local port
    port="$(s3_port)"
    for _ in $(seq 1 30); do
        if ! port_is_free "$port"; then
            return 0
        fi
        sleep 1
    done
    echo "garage S3 API is not listening on 127.0.0.1:$port" >&2
    return 1
}

ensure_key_and_bucket() {
    # The creation output shows the secret; keep it out of CI logs.
    g key info "$key_name" >/dev/null 2>&1 || g key create "$key_name" >/dev/null
    g bucket info "$bucket" >/dev/null 2>&1 || g bucket create "$bucket" >&2
    g bucket allow --read --write --owner "$bucket" --key "$key_name" >&2
}

print_exports() {
    local info key_id secret
    info="$(g key info "$key_name" --show-secret)"
    key_id="$(printf '%s\n' "$info" | sed -n 's/^ *Key ID: *\(GK[0-9a-f]*\).*/\1/p' | head -n 1)"
    secret="$(printf '%s\n' "$info" | sed -n 's/^ *Secret key: *\([0-9a-f]*\).*/\1/p' | head -n 1)"
    if [ -z "$key_id" ] || [ -z "$secret" ]; then
        echo "could not read the key from 'garage key info'" >&2
        return 1
    fi
    printf 'export CALLVAULT_TEST_S3_ENDPOINT=%q\n' "http://127.0.0.1:$(s3_port)"
    printf 'export CALLVAULT_TEST_S3_BUCKET=%q\n' "$bucket"
    printf 'export AWS_ACCESS_KEY_ID=%q\n' "$key_id"
    printf 'export AWS_SECRET_ACCESS_KEY=%q\n' "$secret"
    printf 'export AWS_REGION=%q\n' "$region"
}

if server_running && [ -f "$config" ]; then
    echo "reusing garage already running from $dir (pid $(cat "$pid_file"))" >&2
else
    write_config
    start_server
fi
wait_until_up
apply_layout
wait_for_s3
ensure_key_and_bucket
print_exports
