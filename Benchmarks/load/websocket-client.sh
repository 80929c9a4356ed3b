#!/usr/bin/env bash
# WebSocket client benchmark (issue 18): small-message round trips per second against
# `epsilon serve`'s /ws/echo, our client (EpsilonWebSocketClient) against hummingbird-websocket's
# client (WSClient) and Python's `websockets`, loopback only, NOT run in CI. The server is pinned
# to CPU 0; the client under test is left to the scheduler unless CLIENT_CPUS names its CPUs (as
# in websocket.sh: on this VM, pinning client and server to different vCPUs made every wake-up
# wait for the other vCPU). The clients are taken in turn, ROUNDS times; the best round counts.
# Rows (64-byte text messages, one in flight per connection, every echo checked):
#   rtt-1    one connection: round-trip latency bound
#   rtt-16   16 connections at once
# Beside each rate the client's own CPU time over the counted window is read (getrusage):
# "per client CPU second" is the rate divided by it, what the client costs per round trip, and
# steadier than the rate on a shared machine.
# Prints ratio lines of the form
#   ws-client rtt-1 epsilon/hummingbird X.XX, epsilon/python-websockets Y.YY
# Usage (repository root; builds epsilon and the bench unless EPSILON/BENCH are set):
#   nice -n -10 bash Benchmarks/load/websocket-client.sh   ROUNDS=3 SECONDS_COUNTED=5 WARMUP=1
#   ECHO_URL=ws://127.0.0.1:PORT/ws/echo measures against a server already running instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
ROUNDS="${ROUNDS:-3}"
SECONDS_COUNTED="${SECONDS_COUNTED:-5}"
WARMUP="${WARMUP:-1}"
SIZE="${SIZE:-64}"
CLIENTS="${CLIENTS:-epsilon hummingbird python-websockets}"
CLIENT_CPUS="${CLIENT_CPUS:-}"
client_pin=()
[ -n "$CLIENT_CPUS" ] && client_pin=(taskset -c "$CLIENT_CPUS")
here="$root/Benchmarks/load"

python3 -c 'import websockets' 2>/dev/null || { echo "missing Python websockets (pip install websockets)" >&2; exit 1; }
if [ -z "${EPSILON:-}" ] && [ -z "${ECHO_URL:-}" ]; then
    echo "building epsilon (release)..."
    nice -n 10 swift build -c release --product epsilon 2>&1 | grep -E "error|warning: " || true
    EPSILON="$root/.build/release/epsilon"
fi
if [ -z "${BENCH:-}" ]; then
    echo "building epsilon-ws-client-bench (release)..."
    nice -n 10 swift build -c release --package-path Benchmarks --product epsilon-ws-client-bench 2>&1 | grep -E "error|warning: " || true
    BENCH="$root/Benchmarks/.build/release/epsilon-ws-client-bench"
fi

work="$(mktemp -d /tmp/epsilon-ws-client.XXXXXX)"
server=""
cleanup() {
    [ -n "$server" ] && { kill "$server" 2>/dev/null || true; sleep 0.5; kill -9 "$server" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${ECHO_URL:-}" ]; then
    PORT="${PORT:-18395}"
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is taken: set PORT" >&2; exit 1; fi
    taskset -c 0 "$EPSILON" serve --host 127.0.0.1 --port $PORT --loops 1 >"$work/epsilon.log" 2>&1 &
    server=$!
    for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    ECHO_URL="ws://127.0.0.1:$PORT/ws/echo"
    sleep 0.5
fi

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); server on CPU 0, client on CPU ${CLIENT_CPUS:-0-1 (unpinned)}; best of $ROUNDS rounds of ${SECONDS_COUNTED}s (after ${WARMUP}s)"
echo "server: ${ECHO_URL} $( [ -n "$server" ] && head -1 "$work/epsilon.log")"
echo "clients: EpsilonWebSocketClient (this tree), WSClient of swift-websocket 1.6.2 (hummingbird-websocket 2.8.1), Python websockets $(python3 -c 'import websockets; print(websockets.__version__)') (asyncio client, Python $(python3 -c 'import platform; print(platform.python_version())'))"

declare -A best best_cpu
record() {  # key rate per-cpu
    best[$1]=$(awk -v a="${best[$1]:-0}" -v b="$2" 'BEGIN { print (b > a ? b : a) }')
    best_cpu[$1]=$(awk -v a="${best_cpu[$1]:-0}" -v b="$3" 'BEGIN { print (b > a ? b : a) }')
}
run() {  # row connections client
    local row=$1 connections=$2 client=$3 out rate per_cpu
    if [ "$client" = python-websockets ]; then
        out=$("${client_pin[@]}" python3 "$here/ws_client_rtt.py" "$ECHO_URL" "$connections" "$SIZE" "$WARMUP" "$SECONDS_COUNTED" 2>&1) || true
    else
        out=$("${client_pin[@]}" "$BENCH" --client "$client" --url "$ECHO_URL" --connections "$connections" --size "$SIZE" \
            --warmup "$WARMUP" --seconds "$SECONDS_COUNTED" 2>&1) || true
    fi
    rate=$(sed -n 's/^rtt [^:]*: \([0-9]*\) round trips.*/\1/p' <<<"$out")
    per_cpu=$(sed -n 's/.*, \([0-9]*\) per client CPU second.*/\1/p' <<<"$out")
    if grep -q FAILED <<<"$out" || ! [[ "$rate" =~ ^[0-9]+$ ]]; then rate=0 per_cpu=0; fi
    echo "  $row/$client: ${out#rtt *: }"
    record "$row/$client" "$rate" "${per_cpu:-0}"
}
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    for client in $CLIENTS; do run rtt-1 1 "$client"; done
    for client in $CLIENTS; do run rtt-16 16 "$client"; done
done

echo
echo "best of $ROUNDS (round trips/s, and per client CPU second):"
for key in $(printf '%s\n' "${!best[@]}" | sort); do printf '  %-28s %10.0f /s %10.0f /CPU-s\n' "$key" "${best[$key]}" "${best_cpu[$key]}"; done
ratio() {  # table a b
    local -n table=$1
    awk -v a="${table[$2]:-0}" -v b="${table[$3]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}
for row in rtt-1 rtt-16; do
    echo "ws-client $row epsilon/hummingbird $(ratio best $row/epsilon $row/hummingbird), epsilon/python-websockets $(ratio best $row/epsilon $row/python-websockets)   (goal >= 2 against hummingbird)"
    echo "ws-client $row per client CPU second: epsilon/hummingbird $(ratio best_cpu $row/epsilon $row/hummingbird), epsilon/python-websockets $(ratio best_cpu $row/epsilon $row/python-websockets)"
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
