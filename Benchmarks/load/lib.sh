# Set-up shared by the load scripts (sourced, not run): tool checks, the release build of
# epsilon, a work folder with the servers' clean-up, starting servers pinned to CPU 0 and
# waiting for their ports, and the best-of-rounds bookkeeping with wrk on CPU 1.
# The script that sources it has `set -euo pipefail` and runs from the repository root ($root).

# require_tools HINT TOOL...: exits naming the tool missing (HINT: how to install them).
require_tools() {
    local hint=$1; shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool ($hint)" >&2; exit 1; }
    done
    ulimit -n "$(ulimit -Hn)"
}

# build_epsilon: sets EPSILON to a release build of the tool unless it is set already.
build_epsilon() {
    if [ -z "${EPSILON:-}" ]; then
        echo "building epsilon (release)..."
        nice -n 10 swift build -c release --product epsilon 2>&1 | grep -E "error|warning: " || true
        EPSILON="$root/.build/release/epsilon"
    fi
}

# make_work PREFIX: a fresh folder in $work; every process started with `start` (or added
# to `pids`) is stopped and the folder removed when the script exits.
make_work() {
    work="$(mktemp -d "/tmp/$1.XXXXXX")"
    pids=()
    trap cleanup EXIT
}
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (15 s), else exits.
wait_port() {
    for _ in $(seq 1 150); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "server on port $1 did not start" >&2
    exit 1
}

# start NAME COMMAND...: runs a server on CPU 0, output in $work/NAME.log; its pid in server_pid.
declare -A server_pid
start() {
    local name=$1; shift
    taskset -c 0 "$@" >"$work/$name.log" 2>&1 &
    server_pid[$name]=$!
    pids+=($!)
}

# record KEY VALUE: keeps the best VALUE per KEY in `best`.
declare -A best
record() {
    best[$1]=$(awk -v a="${best[$1]:-0}" -v b="$2" 'BEGIN { print (b > a ? b : a) }')
}

# run_wrk KEY URL: wrk -t1 -c64 for DURATION seconds on CPU 1, requests/s recorded. With
# WRK_ERRORS_DISQUALIFY=1 a run with socket errors or non-2xx answers counts 0 (a fast
# failure must not count as throughput).
run_wrk() {
    local out rps err
    out=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" "$2" 2>&1)
    rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
    err=$(grep -E "Socket errors|Non-2xx" <<<"$out" | tr '\n' ' ' || true)
    if [ "${WRK_ERRORS_DISQUALIFY:-0}" = 1 ] && [ -n "$err" ]; then rps=0; fi
    echo "  $1: ${rps:-0} req/s ${err}"
    record "$1" "${rps:-0}"
}
