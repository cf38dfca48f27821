#!/usr/bin/env bash
# Installs the system tools the tests and the bench call: Python 3 (the scorer), OpenSSL
# (the bench's reference), curl, and the standard tools a regulator opens an export with:
# age (Debian), ssh-keygen (OpenSSH) and bagit.py (PyPI `bagit`). Skips what is there.
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
command -v age >/dev/null || need+=(age)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v tar >/dev/null || need+=(tar)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${need[@]}"
fi
# The independent audit verifier (tests/verify_audit.py) needs `cryptography`.
if ! python3 -c 'import cryptography' 2>/dev/null; then
  python3 -m pip install --quiet cryptography
fi
# Export bundles are validated with the Library of Congress's bagit.py.
if ! command -v bagit.py >/dev/null 2>&1; then
  python3 -m pip install --quiet bagit
fi
