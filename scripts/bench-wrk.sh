#!/usr/bin/env bash
# Drives running servers with wrk, posting a realistic SIP webhook (tests/cases/webhook.form),
# and prints requests/s of each target plus its ratio to the native hyper baseline, all measured
# in one run on this machine.
#
# Run: scripts/bench-wrk.sh            (DURATION=10s CONNECTIONS=32 THREADS=1 to change the load)
# Needs wrk (apt-get install wrk); builds the release binaries itself.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PORT_EDGE=${PORT_EDGE:-18181}
PORT_NATIVE=${PORT_NATIVE:-18182}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --release -q -p twiml-edge-runtime --bin twiml-edge --example native-handler

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

body=$(python3 - <<'PY'
import urllib.parse
pairs = []
for line in open("tests/cases/webhook.form"):
    line = line.rstrip("\n")
    if line and not line.startswith("#"):
        name, _, value = line.partition("=")
        pairs.append((name, value))
print(urllib.parse.urlencode(pairs), end="")
PY
)
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "$body"
LUA

TWIML_EDGE_LOG=warn target/release/twiml-edge serve --listen "127.0.0.1:$PORT_EDGE" \
  --templates templates --data "$work/data" ${EXTRA_SERVE_ARGS:-} >/dev/null & pids+=($!)
target/release/examples/native-handler "127.0.0.1:$PORT_NATIVE" >/dev/null & pids+=($!)

wait_for() { for _ in $(seq 100); do curl -fs -o /dev/null "$1" -d "" 2>/dev/null && return; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
wait_for "http://127.0.0.1:$PORT_EDGE/healthz"
wait_for "http://127.0.0.1:$PORT_NATIVE/"

# Each target: "label url". Extra targets (wasm functions) are appended by TARGETS.
targets=("native http://127.0.0.1:$PORT_NATIVE/" "bin:pstn-dial http://127.0.0.1:$PORT_EDGE/bins/pstn-dial")
for t in ${TARGETS:-}; do targets+=("${t%%=*} http://127.0.0.1:$PORT_EDGE${t#*=}"); done

declare -A rps
for t in "${targets[@]}"; do
  label=${t%% *}; url=${t#* }
  curl -fs -o /dev/null -d "$body" -H 'Content-Type: application/x-www-form-urlencoded' "$url" \
    || { echo "$label ($url) does not answer 200" >&2; exit 1; }
  wrk -t1 -c"$CONNECTIONS" -d2s -s "$work/post.lua" "$url" >/dev/null   # warm-up
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$work/post.lua" "$url")
  rps[$label]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$non2xx" ] || { echo "$label: $non2xx non-2xx answers" >&2; exit 1; }
done

printf '%-24s %12s %10s\n' target 'requests/s' 'x native'
for t in "${targets[@]}"; do
  label=${t%% *}
  printf '%-24s %12.0f %10.2f\n' "$label" "${rps[$label]}" "$(awk -v a="${rps[$label]}" -v b="${rps[native]}" 'BEGIN {print a / b}')"
done
