#!/usr/bin/env bash
# Drives servers with wrk, posting a realistic SIP webhook (tests/cases/webhook.form), and prints
# requests/s of each target and its ratio to a native hyper handler doing the same job, all
# measured in one run: the seed 004 job as a TwiML Bin, as a WebAssembly function (the e164
# example, guests/examples/pstn-dial), and natively (runtime/server/examples/native-handler.rs).
# Two more pairs, each compared within itself: a function making one outbound HTTP request to a
# local server (test guest world-reach) against the native handler making the same request, and
# the function path of a server at the default log level against one at TWIML_EDGE_LOG=warn.
#
# Run: scripts/bench-wrk.sh     (ROUNDS=3 DURATION=5s CONNECTIONS=32 to change the load)
# Needs wrk (apt-get install wrk) and the guests (scripts/build-guests.sh); builds the release
# binaries itself. Targets take turns within each round and each round's ratios are taken against
# that round's native figure, so a noisy neighbour skews every target alike; the medians over the
# rounds are printed, with the server's CPU time per request (user + system, from /proc), which
# shows what a target costs apart from wrk's share of the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
PORT_EDGE=${PORT_EDGE:-18181}
PORT_NATIVE=${PORT_NATIVE:-18182}
PORT_DEFAULT_LOG=${PORT_DEFAULT_LOG:-18183}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -f target/guests/pstn-dial.wasm ] || { echo "no guests: run scripts/build-guests.sh" >&2; exit 1; }
cargo build --release -q -p twiml-edge --bin twiml-edge
cargo build --release -q -p twiml-edge-server --example native-handler

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

mkdir "$work/functions"
cp target/guests/pstn-dial.wasm target/guests/world-reach.wasm "$work/functions/"
TWIML_EDGE_LOG=warn target/release/twiml-edge serve --listen "127.0.0.1:$PORT_EDGE" \
  --templates templates --functions "$work/functions" --data "$work/data" \
  --allow-host "http://127.0.0.1:$PORT_NATIVE" >/dev/null & pids+=($!)
edge_pid=$!
# What a new user gets: no TWIML_EDGE_LOG; its log goes where a terminal's would, to a file.
env -u TWIML_EDGE_LOG target/release/twiml-edge serve --listen "127.0.0.1:$PORT_DEFAULT_LOG" \
  --templates templates --functions "$work/functions" --data "$work/data-default" \
  2>"$work/default.log" >/dev/null & pids+=($!)
default_pid=$!
target/release/examples/native-handler "127.0.0.1:$PORT_NATIVE" >/dev/null & pids+=($!)
native_pid=$!
# CPU ticks (user + system) a process has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

wait_for() { for _ in $(seq 300); do curl -fs -o /dev/null "$1" -d "" 2>/dev/null && return; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
wait_for "http://127.0.0.1:$PORT_EDGE/healthz"
wait_for "http://127.0.0.1:$PORT_NATIVE/"
wait_for "http://127.0.0.1:$PORT_DEFAULT_LOG/healthz"
fetch="Fetch=http%3A%2F%2F127.0.0.1%3A$PORT_NATIVE%2Fhello"

targets=(
  "native $native_pid http://127.0.0.1:$PORT_NATIVE/"
  "bin:pstn-dial $edge_pid http://127.0.0.1:$PORT_EDGE/bins/pstn-dial"
  "function:pstn-dial $edge_pid http://127.0.0.1:$PORT_EDGE/functions/pstn-dial"
  "function@default-log $default_pid http://127.0.0.1:$PORT_DEFAULT_LOG/functions/pstn-dial"
  "native:fetch $native_pid http://127.0.0.1:$PORT_NATIVE/fetch"
  "function:fetch $edge_pid http://127.0.0.1:$PORT_EDGE/functions/world-reach?$fetch"
)
for t in "${targets[@]}"; do
  read -r label pid url <<<"$t"
  curl -fs -o /dev/null -d "$body" -H 'Content-Type: application/x-www-form-urlencoded' "$url" \
    || { echo "$label ($url) does not answer 200" >&2; exit 1; }
  if [[ $label == *fetch ]]; then
    curl -fs -d "$body" "$url" | grep -q 'fetch 200 hello' \
      || { echo "$label ($url) does not fetch: $(curl -s -d "$body" "$url")" >&2; exit 1; }
  fi
  wrk -t1 -c"$CONNECTIONS" -d2s -s "$work/post.lua" "$url" >/dev/null   # warm-up
done

: > "$work/results"
for round in $(seq "$ROUNDS"); do
  for t in "${targets[@]}"; do
    read -r label pid url <<<"$t"
    before=$(ticks "$pid")
    out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$work/post.lua" "$url")
    after=$(ticks "$pid")
    if grep -q 'Non-2xx' <<<"$out"; then echo "$label: non-2xx answers" >&2; exit 1; fi
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    echo "$round $label $rps $((after - before)) $requests $(getconf CLK_TCK)" >> "$work/results"
  done
done

python3 - "$work/results" <<'PY'
import statistics, sys
rounds, cpu = {}, {}
for line in open(sys.argv[1]):
    r, label, rps, ticks, requests, hz = line.split()
    rounds.setdefault(r, {})[label] = float(rps)
    cpu.setdefault(label, []).append(int(ticks) / int(hz) * 1e6 / int(requests))
labels = list(next(iter(rounds.values())))
print(f"{'target':<22} {'requests/s':>12} {'x native':>9} {'server CPU/request':>19}"
      f"   (medians of {len(rounds)} rounds)")
for label in labels:
    rps = statistics.median(r[label] for r in rounds.values())
    ratio = statistics.median(r[label] / r["native"] for r in rounds.values())
    print(f"{label:<22} {rps:>12.0f} {ratio:>9.2f} {statistics.median(cpu[label]):>16.1f} us")
def pair(what, label, base):
    ratio = statistics.median(r[label] / r[base] for r in rounds.values())
    print(f"{what}: {label} / {base} = {ratio:.2f}")
pair("one outbound request", "function:fetch", "native:fetch")
pair("default log level", "function@default-log", "function:pstn-dial")
PY
echo "default-level log: $(wc -c <"$work/default.log") bytes"
[ -s "$work/default.log" ] && head -3 "$work/default.log" || true
