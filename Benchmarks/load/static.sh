#!/usr/bin/env bash
# Static-file load figures for `epsilon serve DIR` (issue 15) against nginx and h2o serving the
# same folder, loopback only, NOT run in CI. As in server.sh: each server pinned to CPU 0, the
# load generator to CPU 1, the servers taken in turn ROUNDS times, the best round counts.
# Rows (HTTP/1.1, cleartext, keep-alive):
#   static-1k     wrk -t1 -c64 GET /1k.bin     (1,024 bytes)
#   static-100k   wrk -t1 -c64 GET /100k.bin   (102,400 bytes)
#   static-100m   one download of /100m.bin (104,857,600 bytes) with curl, DOWNLOADS times per
#                 round, MiB/s; the size is checked on every download
# Every file is random bytes (application/octet-stream everywhere). Peers: nginx 1 worker with
# `sendfile on; tcp_nopush on;` (Debian's default nginx.conf), h2o 1 thread with `file.dir`;
# epsilon with --loops 1. Prints the figures and ratio lines, e.g.
#   static-1k epsilon/nginx 1.07, epsilon/h2o 1.21
# Usage (repository root; builds epsilon in release unless EPSILON is set):
#   bash Benchmarks/load/static.sh      ROUNDS=3 DURATION=10 DOWNLOADS=3 by default
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
DOWNLOADS="${DOWNLOADS:-3}"
WRK_ERRORS_DISQUALIFY=1
source "$root/Benchmarks/load/lib.sh"

require_tools "apt-get install -y wrk curl h2o nginx" wrk curl h2o nginx taskset sha256sum
build_epsilon
make_work epsilon-static-load
chmod 755 "$work"  # nginx's worker runs as nobody when started as root

P_EPS=18190 P_H2O=18191 P_NGINX=18192
docs="$work/docs"
mkdir -p "$docs"
head -c 1024 /dev/urandom >"$docs/1k.bin"
head -c 102400 /dev/urandom >"$docs/100k.bin"
head -c 104857600 /dev/urandom >"$docs/100m.bin"
BIG=104857600

cat >"$work/h2o.conf" <<H2O
user: root
num-threads: 1
access-log: /dev/null
error-log: $work/h2o-error.log
http1-request-timeout: 300
listen:
  host: 127.0.0.1
  port: $P_H2O
hosts:
  default:
    paths:
      /:
        file.dir: $docs
H2O

cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    default_type application/octet-stream;
    client_body_temp_path $work/nginx-body;
    server {
        listen 127.0.0.1:$P_NGINX backlog=4096;
        root $docs;
    }
}
NGINX

start epsilon "$EPSILON" serve "$docs" --host 127.0.0.1 --port $P_EPS --loops 1
start h2o h2o -c "$work/h2o.conf"
start nginx /usr/sbin/nginx -p "$work" -c "$work/nginx.conf"
for p in $P_EPS $P_H2O $P_NGINX; do wait_port $p; done
sleep 1

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); servers on CPU 0, load on CPU 1; best of $ROUNDS (wrk ${DURATION}s, $DOWNLOADS downloads of 100 MiB per round)"
echo "epsilon: $(head -1 "$work/epsilon.log")"
echo "peers: h2o $(h2o --version | head -1 | awk '{print $3}') (1 thread, file.dir), nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///') (1 worker, sendfile on)"

# Correctness first: every server returns the same bytes for every file.
declare -A port=([epsilon]=$P_EPS [h2o]=$P_H2O [nginx]=$P_NGINX)
for name in epsilon h2o nginx; do
    for file in 1k.bin 100k.bin 100m.bin; do
        got=$(curl -s --max-time 60 "http://127.0.0.1:${port[$name]}/$file" | sha256sum | cut -d' ' -f1)
        want=$(sha256sum "$docs/$file" | cut -d' ' -f1)
        [ "$got" = "$want" ] || { echo "$name: /$file does not match the file (sha256 $got)" >&2; exit 1; }
    done
done
echo "every server returns every file intact (sha256)"

run_download() {  # key url: DOWNLOADS downloads, MiB/s of each, the best recorded
    local out size speed
    for _ in $(seq 1 "$DOWNLOADS"); do
        out=$(taskset -c 1 curl -s --max-time 120 -o /dev/null -w '%{size_download} %{speed_download}' "$2" || echo "0 0")
        read -r size speed <<<"$out"
        if [ "$size" != "$BIG" ]; then
            echo "  $1: short download ($size bytes)"
            speed=0
        fi
        speed=$(awk -v s="$speed" 'BEGIN { printf "%.0f", s / 1048576 }')
        echo "  $1: $speed MiB/s"
        record "$1" "$speed"
    done
}

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    for name in epsilon nginx h2o; do run_wrk "static-1k/$name" "http://127.0.0.1:${port[$name]}/1k.bin"; done
    for name in epsilon nginx h2o; do run_wrk "static-100k/$name" "http://127.0.0.1:${port[$name]}/100k.bin"; done
    for name in epsilon nginx h2o; do run_download "static-100m/$name" "http://127.0.0.1:${port[$name]}/100m.bin"; done
done

echo
echo "best of $ROUNDS (req/s; static-100m in MiB/s):"
for key in $(printf '%s\n' "${!best[@]}" | sort); do printf '  %-22s %12.0f\n' "$key" "${best[$key]}"; done
for row in static-1k static-100k static-100m; do
    awk -v e="${best[$row/epsilon]:-0}" -v n="${best[$row/nginx]:-0}" -v h="${best[$row/h2o]:-0}" -v r="$row" 'BEGIN {
        printf "%s epsilon/nginx %s, epsilon/h2o %s\n", r, (n > 0 ? sprintf("%.2f", e / n) : "n/a"), (h > 0 ? sprintf("%.2f", e / h) : "n/a")
    }'
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
