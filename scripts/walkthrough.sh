#!/usr/bin/env bash
# Runs the README's walkthrough (its ```sh walkthrough blocks) as written, in a fresh folder with
# the twiml-edge binary this checkout builds, on a port of its own, and fails on the first
# command that fails.
#
# Run: scripts/walkthrough.sh     (scripts/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cargo build -q -p twiml-edge --bin twiml-edge
bin_dir="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug"   # CARGO_TARGET_DIR may be absolute

work=$(mktemp -d)
pgid=""
# The walkthrough starts a server in the background: whatever happens, its process group goes.
cleanup() { [ -n "$pgid" ] && kill -- "-$pgid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

python3 - "$root/README.md" > "$work/walkthrough.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```sh walkthrough\n(.*?)^```", text, re.S | re.M)
if not blocks:
    sys.exit("README.md has no ```sh walkthrough blocks")
print("\n".join(blocks))
PY

port=$((20000 + RANDOM % 20000))
cd "$work"
export PATH="$bin_dir:$PATH"
export TWIML_EDGE_LISTEN="127.0.0.1:$port" TWIML_EDGE_URL="http://127.0.0.1:$port"
export TWIML_EDGE_CACHE="$work/cache"
setsid bash -euo pipefail -x walkthrough.sh > walkthrough.out 2>&1 &
pgid=$!
if ! wait "$pgid"; then
  cat walkthrough.out >&2
  echo "walkthrough: a block of README.md failed (above)" >&2
  exit 1
fi
# What the reader is told to expect: the call answered with the function's dial plan.
grep -q 'Dial' walkthrough.out || { cat walkthrough.out >&2; echo "walkthrough: no dial plan" >&2; exit 1; }
echo "walkthrough: every block of README.md ran"
