#!/usr/bin/env bash
# Load figures for `epsilon serve` (issue 14) against h2o, nginx and a Hummingbird 2 server,
# loopback only, NOT run in CI. Each server is pinned to CPU 0 and the load generator to CPU 1;
# the servers are taken in turn, ROUNDS times, and the best round counts.
# Rows:
#   http1-hello   wrk -t1 -c64 GET /hello (13 bytes; h2o serves a 13-byte file)
#   http1-routed  wrk -t1 -c64 GET /api/users/42 (epsilon: three middleware; Hummingbird: its
#                 router + three middleware; nginx: a regex location adding the same headers)
#   h2c           h2load -c32 -m32 -n H2_REQUESTS GET /hello, cleartext by prior knowledge
#   h2-tls        h2load -c32 -m32 -n H2_REQUESTS GET /hello over TLS (ALPN h2)
#   idle memory   RSS growth per idle connection with IDLE connections (HTTP/1.1 and HTTP/2)
# and prints ratio lines, e.g. `ratio http1-hello epsilon/h2o 1.07`.
# Usage (repository root; builds epsilon and the Hummingbird peer in release unless EPSILON/HB set):
#   bash Benchmarks/load/server.sh      ROUNDS=3 DURATION=10 IDLE=10000 by default
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
IDLE="${IDLE:-10000}"
# HTTP/2 rows run a fixed count, not a duration: epsilon ends a connection after 10,000 requests
# (GOAWAY) and h2load does not reconnect, so a timed run would measure idle clients. 32 × 9,000.
H2_REQUESTS="${H2_REQUESTS:-288000}"
here="$root/Benchmarks/load"
source "$here/lib.sh"

require_tools "apt-get install -y wrk nghttp2-client h2o nginx" wrk h2load h2o nginx openssl taskset python3
[ "$(ulimit -n)" -gt $((IDLE + 200)) ] || { echo "RLIMIT_NOFILE $(ulimit -n) too low for $IDLE connections" >&2; exit 1; }

build_epsilon
if [ -z "${HB:-}" ]; then
    echo "building hummingbird-server (release)..."
    nice -n 10 swift build -c release --package-path Benchmarks --product hummingbird-server 2>&1 | grep -E "error|warning: " || true
    HB="$root/Benchmarks/.build/release/hummingbird-server"
fi

make_work epsilon-server-load

# Test certificate (EC P-256) for the TLS rows.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/key.pem" \
    -out "$work/cert.pem" -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost 2>/dev/null

P_EPS=18180 P_EPS_TLS=18181 P_H2O=18182 P_H2O_TLS=18183 P_NGINX=18184 P_NGINX_TLS=18185 P_NGINX_H2C=18186 P_HB=18187
mkdir -p "$work/docs"
printf 'Hello, World!' >"$work/docs/hello"

cat >"$work/h2o.conf" <<H2O
user: root
num-threads: 1
access-log: /dev/null
error-log: $work/h2o-error.log
http2-max-concurrent-requests-per-connection: 100
http1-request-timeout: 300
max-connections: $((IDLE + 1000))
http2-idle-timeout: 300
listen:
  host: 127.0.0.1
  port: $P_H2O
listen:
  host: 127.0.0.1
  port: $P_H2O_TLS
  ssl:
    certificate-file: $work/cert.pem
    key-file: $work/key.pem
hosts:
  default:
    paths:
      /:
        file.dir: $work/docs
H2O

cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile $((IDLE + 1000));
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections $((IDLE + 500)); }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    http2_max_requests 100000000;
    http2_idle_timeout 300s;
    client_body_temp_path $work/nginx-body;
    server {
        listen 127.0.0.1:$P_NGINX backlog=4096;
        listen 127.0.0.1:$P_NGINX_TLS ssl http2 backlog=4096;
        listen 127.0.0.1:$P_NGINX_H2C http2 backlog=4096;
        ssl_certificate $work/cert.pem;
        ssl_certificate_key $work/key.pem;
        location = /hello { default_type text/plain; return 200 "Hello, World!"; }
        location ~ ^/api/users/([^/]+)$ {
            default_type application/json;
            add_header X-Request-Id \$request_id;
            add_header Access-Control-Allow-Origin *;
            add_header Vary Accept-Encoding;
            return 200 '{"id":"\$1"}';
        }
    }
}
NGINX

start epsilon "$EPSILON" serve --host 127.0.0.1 --port $P_EPS --loops 1 --h2c
start epsilon-tls "$EPSILON" serve --host 127.0.0.1 --port $P_EPS_TLS --loops 1 --cert "$work/cert.pem" --key "$work/key.pem"
start h2o h2o -c "$work/h2o.conf"
start nginx /usr/sbin/nginx -p "$work" -c "$work/nginx.conf"
start hummingbird "$HB" $P_HB
for p in $P_EPS $P_EPS_TLS $P_H2O $P_H2O_TLS $P_NGINX $P_NGINX_TLS $P_HB; do wait_port $p; done
sleep 1
serving_pid() {  # the process that holds the connections
    case "$1" in
        nginx) pgrep -P "$(cat "$work/nginx.pid")" | head -1 ;;
        *) echo "${server_pid[$1]}" ;;
    esac
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); servers on CPU 0, load on CPU 1; best of $ROUNDS (wrk ${DURATION}s, h2load $H2_REQUESTS requests)"
echo "epsilon: $(head -1 "$work/epsilon.log")"
echo "peers: h2o $(h2o --version | head -1 | awk '{print $3}') (1 thread, file), nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///') (1 worker), Hummingbird 2.28.1 (1 event loop)"

# Correctness first: every server answers the path it is measured on.
check() {  # label url [curl args]
    local url=$1; shift
    local body
    body=$(curl -sk --max-time 5 "$@" "$url" || true)
    [ -n "$body" ] || echo "WARNING: $url answered nothing" >&2
}
check "http://127.0.0.1:$P_EPS/hello"; check "http://127.0.0.1:$P_EPS/api/users/42"
check "http://127.0.0.1:$P_HB/hello"; check "http://127.0.0.1:$P_HB/api/users/42"
check "http://127.0.0.1:$P_NGINX/api/users/42"; check "http://127.0.0.1:$P_H2O/hello"

run_h2load() {  # key url
    local out rps failed
    out=$(taskset -c 1 h2load -c32 -m32 -t1 -n "$H2_REQUESTS" --npn-list=h2 "$2" 2>&1 || true)
    rps=$(awk '/^finished in/ { for (i = 1; i <= NF; i++) if ($i == "req/s,") print $(i-1) }' <<<"$out")
    failed=$(awk '/^requests:/ { print $10, "failed,", $12, "errored" }' <<<"$out")
    # Only HTTP/2 counts: over TLS h2load must report ALPN h2; in cleartext requests must succeed.
    if [[ "$2" == https* ]] && ! grep -q "Application protocol: h2" <<<"$out"; then
        failed="no h2 negotiated"; rps=0
    fi
    if ! awk '/^requests:/ { exit !($8 > 0) }' <<<"$out"; then failed="nothing succeeded; $failed"; rps=0; fi
    echo "  $1: ${rps:-0} req/s (${failed})"
    record "$1" "${rps:-0}"
}

for round in $(seq 1 "$ROUNDS"); do
    echo "round $round"
    run_wrk http1-hello/epsilon "http://127.0.0.1:$P_EPS/hello"
    run_wrk http1-hello/h2o "http://127.0.0.1:$P_H2O/hello"
    run_wrk http1-hello/nginx "http://127.0.0.1:$P_NGINX/hello"
    run_wrk http1-hello/hummingbird "http://127.0.0.1:$P_HB/hello"
    run_wrk http1-routed/epsilon "http://127.0.0.1:$P_EPS/api/users/42"
    run_wrk http1-routed/nginx "http://127.0.0.1:$P_NGINX/api/users/42"
    run_wrk http1-routed/hummingbird "http://127.0.0.1:$P_HB/api/users/42"
    run_h2load h2c/epsilon "http://127.0.0.1:$P_EPS/hello"
    run_h2load h2c/h2o "http://127.0.0.1:$P_H2O/hello"
    run_h2load h2c/nginx "http://127.0.0.1:$P_NGINX_H2C/hello"
    run_h2load h2-tls/epsilon "https://127.0.0.1:$P_EPS_TLS/hello"
    run_h2load h2-tls/h2o "https://127.0.0.1:$P_H2O_TLS/hello"
    run_h2load h2-tls/nginx "https://127.0.0.1:$P_NGINX_TLS/hello"
done

# Memory per idle connection: RSS growth of the serving process with IDLE connections open.
declare -A idle_kb
idle() {  # key name proto port
    local key=$1 name=$2 proto=$3 port=$4 pid before after opened open
    pid=$(serving_pid "$name")
    before=$(rss_kb "$pid")
    rm -f "$work/idle.out" "$work/idle.in"
    mkfifo "$work/idle.in"
    taskset -c 1 python3 "$here/idle_client.py" "$proto" "$port" "$IDLE" /hello <"$work/idle.in" >"$work/idle.out" &
    local client=$!
    exec 4>"$work/idle.in"
    for _ in $(seq 1 1500); do grep -q '^ready' "$work/idle.out" 2>/dev/null && break; kill -0 $client 2>/dev/null || break; sleep 0.1; done
    sleep 1
    after=$(rss_kb "$pid")
    exec 4>&-
    wait $client || true
    opened=$(sed -n 's/^ready //p' "$work/idle.out")
    open=$(sed -n 's/^still open //p' "$work/idle.out")
    idle_kb[$key]=$(awk -v a="$before" -v b="$after" -v n="${opened:-0}" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "n/a" }')
    echo "  $key: RSS $before kB -> $after kB with ${opened:-0} connections (${open:-?} still open at the end) = ${idle_kb[$key]} kB per connection"
    sleep 2
}
echo "idle connections ($IDLE)"
idle idle-http1/epsilon epsilon h1 $P_EPS
idle idle-http1/h2o h2o h1 $P_H2O
idle idle-http1/nginx nginx h1 $P_NGINX
idle idle-http1/hummingbird hummingbird h1 $P_HB
idle idle-h2/epsilon epsilon h2 $P_EPS
idle idle-h2/h2o h2o h2 $P_H2O
idle idle-h2/nginx nginx h2 $P_NGINX_H2C

echo
echo "best of $ROUNDS (req/s):"
for key in $(printf '%s\n' "${!best[@]}" | sort); do printf '  %-26s %12.0f\n' "$key" "${best[$key]}"; done
ratio() {  # row a b
    awk -v a="${best[$1/$2]:-0}" -v b="${best[$1/$3]:-0}" -v r="$1" -v n="$2/$3" 'BEGIN { if (b > 0) printf "ratio %s %s %.2f\n", r, n, a / b; else printf "ratio %s %s n/a\n", r, n }'
}
ratio http1-hello epsilon h2o
ratio http1-hello epsilon nginx
ratio http1-hello epsilon hummingbird
ratio http1-routed epsilon nginx
ratio http1-routed epsilon hummingbird
awk -v a="${best[http1-routed/epsilon]:-0}" -v b="${best[http1-hello/epsilon]:-0}" 'BEGIN { if (b > 0) printf "ratio http1-routed/hello epsilon %.2f (goal >= 0.90)\n", a / b }'
ratio h2c epsilon h2o
ratio h2c epsilon nginx
ratio h2-tls epsilon h2o
ratio h2-tls epsilon nginx
for key in idle-http1 idle-h2; do
    echo "memory $key epsilon ${idle_kb[$key/epsilon]} kB/connection (goal < 4), h2o ${idle_kb[$key/h2o]}, nginx ${idle_kb[$key/nginx]}${idle_kb[$key/hummingbird]:+, hummingbird ${idle_kb[$key/hummingbird]}}"
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
