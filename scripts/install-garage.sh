#!/usr/bin/env bash
# Installs Garage 2.x (the S3-compatible server the S3 store tests run against), unless a
# 2.x binary is already on PATH or in Cargo's bin directory. Building from crates.io takes
# about 15 minutes on two cores; the binary lands in ${CARGO_HOME:-~/.cargo}/bin/garage.
set -euo pipefail

cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin/garage"

is_garage_2() {
    local version
    [ -n "$1" ] && [ -x "$1" ] || return 1
    version="$("$1" --version 2>/dev/null | head -n 1)" || return 1
    [[ "$version" =~ (^|[^0-9.])v?2\.[0-9]+ ]]
}

for candidate in "$(command -v garage || true)" "$cargo_bin"; do
    if is_garage_2 "$candidate"; then
        echo "garage 2.x already installed: $candidate" >&2
        exit 0
    fi
done

echo "building garage ^2.5 from crates.io (about 15 minutes on 2 cores)..." >&2
cargo install garage --version '^2.5' --locked
is_garage_2 "$cargo_bin" || { echo "garage install finished but $cargo_bin is not 2.x" >&2; exit 1; }
echo "garage installed: $cargo_bin" >&2
