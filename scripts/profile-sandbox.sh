#!/usr/bin/env bash
# Profiles one fresh instance + call of a function (the criterion benchmark's hot loop) with perf
# and prints where the time goes: per shared object (wasmtime and the host in the bench binary,
# the kernel, libc, the guest's compiled code as [JIT]) and the hottest symbols.
#
# Run: scripts/profile-sandbox.sh            (BENCH_GUEST=echo to profile another guest)
# Needs perf (apt-get install -y linux-perf) and the guests (scripts/build-guests.sh). If perf
# refuses to sample, lower /proc/sys/kernel/perf_event_paranoid.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_PROFILE=${SECONDS_TO_PROFILE:-4}
TOP=${TOP:-25}

command -v perf >/dev/null || { echo "perf is missing: apt-get install -y linux-perf" >&2; exit 1; }
[ -f target/guests/pstn-dial.wasm ] || { echo "no guests: run scripts/build-guests.sh" >&2; exit 1; }

bench=$(cargo bench -q -p twiml-edge-sandbox --bench sandbox --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "sandbox" and m.get("executable"):
        print(m["executable"])')
[ -n "$bench" ] || { echo "could not build the sandbox benchmark" >&2; exit 1; }

data=$(mktemp)
trap 'rm -f "$data"' EXIT
perf record -q -F 1999 -o "$data" -- "$bench" --bench --profile-time "$SECONDS_TO_PROFILE" \
  'instantiate\+call' >/dev/null 2>&1
echo "== share of the instantiate+call loop per shared object"
perf report -i "$data" --no-children --sort dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
echo "== hottest $TOP symbols"
perf report -i "$data" --no-children --sort dso,sym 2>/dev/null | grep -v '^#' | grep -v '^$' \
  | head -"$TOP"
