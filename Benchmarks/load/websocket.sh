#!/usr/bin/env bash
# WebSocket load figures for `epsilon serve` (issue 16) against a hummingbird-websocket server and
# a Go gorilla/websocket server, loopback only, NOT run in CI. Each server is pinned to CPU 0 (one
# core); the load generator (Benchmarks/go/ws-load, the same tool for every server) is left to
# the scheduler unless LOAD_CPUS names its CPUs (LOAD_CPUS=1 is server.sh's layout: on this
# 2-vCPU VM under load, a generator pinned to the other vCPU than the server got 20-50x less
# from every server, each wake-up across vCPUs waiting for the other vCPU's turn; see README;
# in session 4 CPU 1 gave 1.2x what CPU 0 did and unpinned 1.7-2.3x, so unpinned stays).
# The servers are taken in turn, ROUNDS times, and the best round counts.
# Rows:
#   ws-echo    64 connections to /ws/echo, 16 64-byte text messages in flight on each (every
#              echo checked), messages/s
#   ws-fanout  1,000 subscribers and one publisher on /ws/chat; the publisher stays at most
#              WINDOW messages ahead of the subscribers' average; deliveries counted at the
#              subscribers (every subscriber checks its sequence has no gap), delivered/s
# Beside each rate, ws-load reads the server's CPU time over the counted window (/proc/PID/stat):
# "per server CPU second" is the rate divided by the CPU the server used, steadier than the rate
# on a shared machine and telling whether the server or the generator was the limit.
# Prints ratio lines of the form
#   ws-echo epsilon/hummingbird X.XX, epsilon/gorilla Y.YY
#   ws-fanout epsilon N msg/s, hummingbird N, gorilla N
# Usage (repository root; builds what EPSILON/HBWS/WSLOAD/GORILLA do not name; ports PORT_BASE…+2):
#   nice -n -10 bash Benchmarks/load/websocket.sh   ROUNDS=3 DURATION=5 WARMUP=1 by default
#   ONLY=echo or ONLY=fanout runs one row; SERVERS="epsilon gorilla" a subset;
#   PERF_DIR=DIR profiles epsilon (perf record -e cpu-clock -g) over its first round of each row
#   and prints the top functions (apt-get install -y linux-perf).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-1}"
CONNECTIONS="${CONNECTIONS:-64}"
IN_FLIGHT="${IN_FLIGHT:-16}"
SUBSCRIBERS="${SUBSCRIBERS:-1000}"
WINDOW="${WINDOW:-16}"
SIZE="${SIZE:-64}"
ONLY="${ONLY:-echo fanout}"
LOAD_CPUS="${LOAD_CPUS:-}"
load_pin=()
[ -n "$LOAD_CPUS" ] && load_pin=(taskset -c "$LOAD_CPUS")
SERVERS="${SERVERS:-epsilon hummingbird gorilla}"

source "$root/Benchmarks/load/lib.sh"

require_tools "apt-get install -y golang-go golang-github-gorilla-websocket-dev" taskset go
[ -d /usr/share/gocode/src/github.com/gorilla/websocket ] || { echo "missing golang-github-gorilla-websocket-dev" >&2; exit 1; }
[ "$(ulimit -n)" -gt $((SUBSCRIBERS * 2 + 200)) ] || { echo "RLIMIT_NOFILE $(ulimit -n) too low for $SUBSCRIBERS subscribers" >&2; exit 1; }

build_epsilon
if [ -z "${HBWS:-}" ]; then
    echo "building hummingbird-ws-server (release)..."
    nice -n 10 swift build -c release --package-path Benchmarks --product hummingbird-ws-server 2>&1 | grep -E "error|warning: " || true
    HBWS="$root/Benchmarks/.build/release/hummingbird-ws-server"
fi
if [ -z "${WSLOAD:-}" ] || [ -z "${GORILLA:-}" ]; then
    echo "building the Go tools (Debian's Go and gorilla/websocket)..."
    bash Benchmarks/go/build.sh >/dev/null
    WSLOAD="${WSLOAD:-$root/Benchmarks/.build-go/ws-load}"
    GORILLA="${GORILLA:-$root/Benchmarks/.build-go/gorilla-ws-server}"
fi

make_work epsilon-ws-load

declare -A port=([epsilon]=${PORT_BASE:-18390} [hummingbird]=$((${PORT_BASE:-18390} + 1)) [gorilla]=$((${PORT_BASE:-18390} + 2)))
for name in $SERVERS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port[$name]}") 2>/dev/null; then
        echo "port ${port[$name]} is taken by another program: set PORT_BASE" >&2; exit 1
    fi
done
for name in $SERVERS; do
    case $name in
        epsilon) start epsilon "$EPSILON" serve --host 127.0.0.1 --port "${port[epsilon]}" --loops 1 ;;
        hummingbird) start hummingbird "$HBWS" "${port[hummingbird]}" ;;
        gorilla) GOMAXPROCS=1 start gorilla "$GORILLA" "${port[gorilla]}" ;;
        *) echo "unknown server $name" >&2; exit 1 ;;
    esac
done
for name in $SERVERS; do wait_port "${port[$name]}"; done
sleep 1

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); servers on CPU 0, ws-load on CPU ${LOAD_CPUS:-0-1 (unpinned)}; best of $ROUNDS rounds of ${DURATION}s (after ${WARMUP}s)"
echo "epsilon: $(head -1 "$work/epsilon.log" 2>/dev/null || true)"
echo "peers: hummingbird-websocket 2.8.1 on Hummingbird 2.28.1 (1 event loop), gorilla/websocket $(dpkg-query -W -f '${Version}' golang-github-gorilla-websocket-dev 2>/dev/null) with $(go version | awk '{print $3}') (GOMAXPROCS=1)"

# Correctness first: every server echoes and broadcasts in order (a short run of each row).
for name in $SERVERS; do
    "$WSLOAD" echo -url "ws://127.0.0.1:${port[$name]}/ws/echo" -c 2 -n 2 -warmup 0s -d 0.2s >"$work/check" 2>&1 \
        || { echo "WARNING: $name /ws/echo: $(cat "$work/check")" >&2; }
    "$WSLOAD" fanout -url "ws://127.0.0.1:${port[$name]}/ws/chat" -subs 4 -warmup 0s -d 0.2s >"$work/check" 2>&1 \
        || { echo "WARNING: $name /ws/chat: $(cat "$work/check")" >&2; }
done

declare -A best_cpu
record_with_cpu() {  # key rate per-cpu: `record`, and the best per-CPU figure in best_cpu
    record "$1" "$2"
    best_cpu[$1]=$(awk -v a="${best_cpu[$1]:-0}" -v b="$3" 'BEGIN { print (b > a ? b : a) }')
}
run() {  # row name
    local row=$1 name=$2 out rate per_cpu
    local url="ws://127.0.0.1:${port[$name]}/ws/echo"
    local args=(echo -c "$CONNECTIONS" -n "$IN_FLIGHT")
    if [ "$row" = fanout ]; then
        url="ws://127.0.0.1:${port[$name]}/ws/chat"
        args=(fanout -subs "$SUBSCRIBERS" -window "$WINDOW")
    fi
    local perf=""
    if [ -n "${PERF_DIR:-}" ] && [ "$name" = epsilon ] && [ ! -e "$PERF_DIR/ws-$row.data" ]; then
        # Profile epsilon over the counted window of its first round (software clock: this
        # machine has no hardware counters).
        (sleep "$WARMUP"; perf record -q -e cpu-clock -F 2000 -g -p "${server_pid[$name]}" -o "$PERF_DIR/ws-$row.data" -- sleep "$DURATION" >/dev/null 2>&1) &
        perf=$!
    fi
    out=$("${load_pin[@]}" "$WSLOAD" "${args[@]}" -url "$url" -size "$SIZE" -warmup "${WARMUP}s" -d "${DURATION}s" -pid "${server_pid[$name]}" 2>&1) || true
    [ -n "$perf" ] && wait "$perf"
    rate=$(awk '{ print $2; exit }' <<<"$out")
    per_cpu=$(sed -n 's/.*, \([0-9]*\) per server CPU second.*/\1/p' <<<"$out")
    if grep -q FAILED <<<"$out" || grep -q "messages lost" <<<"$out" || ! [[ "$rate" =~ ^[0-9]+$ ]]; then
        echo "  ws-$row/$name: $out"
        rate=0 per_cpu=0
    else
        echo "  ws-$row/$name: ${out#*: }"
    fi
    record_with_cpu "ws-$row/$name" "$rate" "${per_cpu:-0}"
}
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    for row in $ONLY; do
        for name in $SERVERS; do run "$row" "$name"; done
    done
done

echo
echo "best of $ROUNDS (rate, and per server CPU second):"
for key in $(printf '%s\n' "${!best[@]}" | sort); do printf '  %-24s %10.0f /s %10.0f /CPU-s\n' "$key" "${best[$key]}" "${best_cpu[$key]}"; done
echo "peak RSS (VmHWM): $(for name in $SERVERS; do printf '%s %s kB  ' "$name" "$(awk '/^VmHWM:/ { print $2 }' "/proc/${server_pid[$name]}/status")"; done)"
ratio() {  # table a b
    local -n table=$1
    awk -v a="${table[$2]:-0}" -v b="${table[$3]:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'
}
for row in $ONLY; do
    case $row in
        echo)
            echo "ws-echo epsilon/hummingbird $(ratio best ws-echo/epsilon ws-echo/hummingbird), epsilon/gorilla $(ratio best ws-echo/epsilon ws-echo/gorilla)   (goal >= 2 and >= 1.0)"
            echo "ws-echo per server CPU second: epsilon/hummingbird $(ratio best_cpu ws-echo/epsilon ws-echo/hummingbird), epsilon/gorilla $(ratio best_cpu ws-echo/epsilon ws-echo/gorilla)"
            ;;
        fanout)
            printf 'ws-fanout epsilon %.0f msg/s, hummingbird %.0f, gorilla %.0f   (goal: epsilon >= 500000 on one core)\n' \
                "${best[ws-fanout/epsilon]:-0}" "${best[ws-fanout/hummingbird]:-0}" "${best[ws-fanout/gorilla]:-0}"
            printf 'ws-fanout per server CPU second: epsilon %.0f, hummingbird %.0f, gorilla %.0f\n' \
                "${best_cpu[ws-fanout/epsilon]:-0}" "${best_cpu[ws-fanout/hummingbird]:-0}" "${best_cpu[ws-fanout/gorilla]:-0}"
            ;;
    esac
done
if [ -n "${PERF_DIR:-}" ]; then
    for data in "$PERF_DIR"/ws-*.data; do
        [ -e "$data" ] || continue
        echo "perf: where epsilon's time goes in ${data##*/} (self, top 25; perf report -i $data for more)"
        perf report -i "$data" --stdio --no-children --sort symbol 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25 | cut -c1-160 || true
    done
fi
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
