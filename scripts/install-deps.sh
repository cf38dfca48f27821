#!/usr/bin/env bash
# Installs the system tools the tests and the bench call: Python 3 (the scorer), OpenSSL
# (the bench's reference), curl. Skips what is already there.
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${need[@]}"
fi
# The independent audit verifier (tests/verify_audit.py) needs `cryptography`.
if ! python3 -c 'import cryptography' 2>/dev/null; then
  python3 -m pip install --quiet cryptography
fi
