#!/usr/bin/env bash
# Load figures for the preview HTTP/1.1 server (on the default backend, and as `epsilon-uring` on
# io_uring's completion model) against nginx and a SwiftNIO NIOHTTP1 server, measured in one
# run, loopback only:
#   - requests/s under `wrk -t1 -c100 -d10s`, each server pinned to CPU 0 and wrk to CPU 1,
#     the servers taken in turn (A B C D, ROUNDS times; the best round counts);
#   - round-trip latency, one request at a time over keep-alive (p50/p99), client on CPU 1;
#   - resident memory per idle connection: RSS delta ÷ connections with 10,000 keep-alive
#     connections open (each served one request), right after the server started.
# Every server answers "Hello, World!" (13 bytes, text/plain, keep-alive). nginx also sends Date.
#
# Usage (from the repository root, after bash Benchmarks/setup.sh):
#   bash Benchmarks/load/run.sh            ROUNDS=3 DURATION=10s IDLE=10000 by default
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10s}"
IDLE="${IDLE:-10000}"
BODY="Hello, World!"
P_EPSILON=18080 P_NGINX=18081 P_NIO=18082 P_EPSILON_URING=18083

command -v wrk >/dev/null && [ -x /usr/sbin/nginx ] || { echo "run bash Benchmarks/setup.sh first (wrk, nginx)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((IDLE + 200)) ] || { echo "RLIMIT_NOFILE $(ulimit -n) too low for $IDLE connections" >&2; exit 1; }

echo "building (release)..."
nice -n 10 swift build -c release --product epsilon 2>&1 | grep -E "error|warning: " || true
nice -n 10 swift build -c release --package-path Benchmarks --product nio-hello-server 2>&1 | grep -E "error|warning: " || true
nice -n 10 swift build -c release --package-path Benchmarks --product epsilon-load-client 2>&1 | grep -E "error|warning: " || true
EPSILON="$root/.build/release/epsilon"
NIO="$root/Benchmarks/.build/release/nio-hello-server"
CLIENT="$root/Benchmarks/.build/release/epsilon-load-client"

work="$(mktemp -d /tmp/epsilon-load.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $work/nginx-body;
    server {
        listen 127.0.0.1:$P_NGINX backlog=4096;
        location / { default_type text/plain; return 200 "$BODY"; }
    }
}
NGINX

wait_port() {  # port: bounded wait for the server to answer
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not start" >&2
    exit 1
}

# The process that holds the connections: nginx's worker, the others themselves.
serving_pid() {
    case "$1" in
        nginx) pgrep -P "$(cat "$work/nginx.pid")" | head -1 ;;
        *) echo "${server_pid[$1]}" ;;
    esac
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

declare -A server_pid port
port[epsilon]=$P_EPSILON; port[nginx]=$P_NGINX; port[nio]=$P_NIO; port[epsilon-uring]=$P_EPSILON_URING
start_server() {
    case "$1" in
        epsilon) taskset -c 0 "$EPSILON" serve --plain-hello --port $P_EPSILON --loops 1 --body "$BODY" >"$work/epsilon.log" 2>&1 & ;;
        # The same server on io_uring's completion model (falls back, and says so, if refused).
        epsilon-uring) EPSILON_POLLER=io_uring taskset -c 0 "$EPSILON" serve --plain-hello --port $P_EPSILON_URING --loops 1 --body "$BODY" >"$work/epsilon-uring.log" 2>&1 & ;;
        nginx) taskset -c 0 /usr/sbin/nginx -p "$work" -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 & ;;
        nio) taskset -c 0 "$NIO" $P_NIO "$BODY" >"$work/nio.log" 2>&1 & ;;
    esac
    server_pid[$1]=$!
    pids+=($!)
    wait_port "${port[$1]}"
}

names=(epsilon epsilon-uring nginx nio)
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start; servers on CPU 0, clients on CPU 1"
for name in "${names[@]}"; do start_server "$name"; done
sleep 1
echo "epsilon: $(head -1 "$work/epsilon.log" | cut -c1-160)"
echo "epsilon-uring: $(head -1 "$work/epsilon-uring.log" | cut -c1-160)"
echo "nginx: $(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //'), one worker, return 200; nio: swift-nio 2.101.3 NIOHTTP1, one event loop"

# 1. Resident memory per idle connection, servers fresh (nothing served yet but a probe).
declare -A rss_per
for name in "${names[@]}"; do
    pid=$(serving_pid "$name")
    before=$(rss_kb "$pid")
    rm -f "$work/idle.out"
    mkfifo "$work/idle.in" 2>/dev/null || true
    taskset -c 1 "$CLIENT" idle "${port[$name]}" "$IDLE" 60 <"$work/idle.in" >"$work/idle.out" &
    client=$!
    exec 4>"$work/idle.in"
    for _ in $(seq 1 1300); do grep -q '^ready' "$work/idle.out" 2>/dev/null && break; kill -0 $client 2>/dev/null || break; sleep 0.1; done
    sleep 1
    after=$(rss_kb "$pid")
    exec 4>&-   # closing stdin releases the client, which checks and resets its connections
    wait $client || true
    rm -f "$work/idle.in"
    opened=$(sed -n 's/^ready //p' "$work/idle.out")
    open=$(sed -n 's/^still open //p' "$work/idle.out")
    [ -n "$opened" ] || { echo "idle test against $name failed: $(cat "$work/idle.out")" >&2; opened=0; open=0; }
    rss_per[$name]=$(awk -v a="$before" -v b="$after" -v n="$opened" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "n/a" }')
    echo "idle $name: RSS $before kB -> $after kB with $opened connections (still open at the end: $open) = ${rss_per[$name]} kB per connection"
done
sleep 2

# 2. Latency, one request at a time over keep-alive.
declare -A latency
for name in "${names[@]}"; do
    latency[$name]=$(taskset -c 1 "$CLIENT" latency "${port[$name]}" 20000 20)
    echo "latency $name: ${latency[$name]}"
done

# 3. Throughput: wrk -t1 -c100, servers in turn.
declare -A best errors
for round in $(seq 1 "$ROUNDS"); do
    for name in "${names[@]}"; do
        out=$(taskset -c 1 wrk -t1 -c100 -d"$DURATION" "http://127.0.0.1:${port[$name]}/" 2>&1)
        rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
        err=$(echo "$out" | grep -E "Socket errors|Non-2xx" | tr '\n' ' ' || true)
        echo "round $round $name: $rps req/s ${err:-no socket errors}"
        errors[$name]="${errors[$name]:-}${err}"
        best[$name]=$(awk -v a="${best[$name]:-0}" -v b="$rps" 'BEGIN { print (b > a ? b : a) }')
    done
done

echo
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
printf "%-13s %12s %14s %14s %9s %9s  %s\n" server "req/s (best)" "epsilon ratio" "RSS/idle conn" "p50 (µs)" "p99 (µs)" "wrk errors"
for name in "${names[@]}"; do
    ratio=$(awk -v a="${best[epsilon]}" -v b="${best[$name]}" 'BEGIN { printf "%.2f", a / b }')
    p50=$(echo "${latency[$name]}" | sed -n 's/.* p50 \([0-9.]*\).*/\1/p')
    p99=$(echo "${latency[$name]}" | sed -n 's/.* p99 \([0-9.]*\).*/\1/p')
    printf "%-13s %12.0f %14s %11s kB %9s %9s  %s\n" "$name" "${best[$name]}" "$ratio" "${rss_per[$name]}" "$p50" "$p99" "${errors[$name]:-none}"
done
echo "(epsilon ratio = epsilon req/s ÷ this server's req/s; > 1 means epsilon served more)"
