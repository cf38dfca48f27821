#!/usr/bin/env bash
# Text redaction, callvault vs Presidio, on the same transcripts, one core each.
#
#   scripts/bench_presidio.sh BIN CORPUS
#
# Prints redact_chars_per_s, presidio_chars_per_s, redact_vs_presidio (target >= 50),
# presidio_label_recall and redact_label_recall as `name=value` lines; notes go to stderr.
# callvault is measured in-process by examples/redact_bench.rs (detection over every
# segment, without process start-up), Presidio by scripts/bench_presidio.py (analyse +
# anonymise, pattern recognisers, blank spaCy pipeline, nothing downloaded but the pinned
# wheels on first use). BIN is accepted so scripts/bench can call every part alike; it is
# not used, the example links the library directly.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 BIN CORPUS" >&2
  exit 2
fi
corpus=$(realpath "$2")
cd "$(dirname "$0")/.."
note() { printf '# %s\n' "$*" >&2; }

pins=(presidio-analyzer==2.2.366 presidio-anonymizer==2.2.366)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/callvault/presidio-venv"
py="$venv/bin/python"
pinned() {
  "$py" - "${pins[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
EOF
}
if [ ! -x "$py" ] || ! pinned; then
  note "installing ${pins[*]} into $venv"
  python3 -m venv "$venv"
  "$py" -m pip install --quiet --disable-pip-version-check "${pins[@]}" >&2
fi

work=$(mktemp -d -t callvault-presidio.XXXXXX)
trap 'rm -rf "$work"' EXIT

note "building examples/redact_bench (release)"
cargo build --release --quiet --example redact_bench
note "callvault text redaction, one core"
taskset -c 0 cargo run --release --quiet --example redact_bench -- "$corpus" "$work/findings.json"
note "presidio, one core"
TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS="" \
  taskset -c 0 "$py" scripts/bench_presidio.py "$corpus" "$work/findings.json"
