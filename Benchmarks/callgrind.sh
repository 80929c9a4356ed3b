#!/usr/bin/env bash
# Instruction counts, the noise-free second opinion: runs one workload of epsilon-bench for ours
# and for peers under `valgrind --tool=callgrind` and prints instructions per item (request,
# response, header block). Each side runs twice (N1 and N2 operations); the difference divided by
# the extra items cancels start-up and set-up, so the figure is the steady-state cost of one item.
# With --profile, also prints where our instructions go (top functions, inclusive).
#
# Usage (from the repository root, after bash Benchmarks/setup.sh):
#   bash Benchmarks/callgrind.sh [--profile] [WORKLOAD [SIDE...]]
#   bash Benchmarks/callgrind.sh pico-703 epsilon picohttpparser llhttp     (the default)
#   Workloads: epsilon-bench --list. Sides: epsilon picohttpparser llhttp http-parser nio-http1
#   (HTTP/1.1), epsilon nghttp2-hpack nio-hpack (hpack-*), epsilon nghttp2-h2 nio-http2
#   epsilon-framedecoder (h2-*; the last is our bare FrameDecoder over the same bytes),
#   epsilon nio-websocket (ws-small, ws-64k, ws-utf8), epsilon memcpy (ws-unmask, ws-unmask-utf8).
set -euo pipefail
cd "$(dirname "$0")"
profile=0
if [ "${1:-}" = "--profile" ]; then profile=1; shift; fi
workload="${1:-pico-703}"
shift || true
sides=("$@")
[ ${#sides[@]} -gt 0 ] || sides=(epsilon picohttpparser llhttp)

# EPSILON_BENCH=path counts a binary built elsewhere (say, a "before" build) instead of building.
source_binary="${EPSILON_BENCH:-.build/release/epsilon-bench}"
[ -n "${EPSILON_BENCH:-}" ] || nice -n 10 swift build -c release --product epsilon-bench 2>&1 | grep -E "error|warning: " || true
# valgrind 3.19 cannot read the DWARF 5 that Swift 6.3's clang writes: count on a copy without
# debug info (symbols stay, so the profile still names functions).
mkdir -p .build/callgrind
binary=.build/callgrind/epsilon-bench.$$
objcopy --strip-debug "$source_binary" "$binary"
trap 'rm -f "$binary"' EXIT

case "$workload" in
    hpack-*) n1=1; n2=3 ;;
    h2-*|ws-*) n1=20; n2=220 ;;
    *) n1=200; n2=2200 ;;
esac

count() {  # side ops -> total instructions
    nice -n 10 valgrind --tool=callgrind --callgrind-out-file=".build/callgrind/$workload.$1.$2.out" \
        "$binary" --run "$workload" --side "$1" --ops "$2" 2>&1 | sed -n 's/.*Collected : //p'
}

echo "callgrind (valgrind $(valgrind --version | sed 's/valgrind-//')), workload $workload, instructions per item = (I($n2 ops) - I($n1 ops)) / items:"
for side in "${sides[@]}"; do
    items=$(nice -n 10 "$binary" --run "$workload" --side "$side" --ops 1 | sed -n 's/.*items\/op=\([0-9]*\).*/\1/p')
    [ -n "$items" ] || { echo "unknown side $side for $workload" >&2; exit 2; }
    a=$(count "$side" "$n1")
    b=$(count "$side" "$n2")
    awk -v s="$side" -v a="$a" -v b="$b" -v n=$((n2 - n1)) -v i="$items" -v w="$workload" \
        'BEGIN { printf "  %-16s %10.0f instructions per item (%s, %d items per op)\n", s, (b - a) / (n * i), w, i }'
done

if [ "$profile" = 1 ]; then
    n=$((n2 * 10)); case "$workload" in hpack-*) n=60 ;; esac
    count epsilon "$n" >/dev/null
    echo
    echo "where our instructions go ($workload, epsilon, $n ops; self cost per function, top 12):"
    callgrind_annotate ".build/callgrind/$workload.epsilon.$n.out" 2>/dev/null | swift demangle --simplified \
        | awk '/file:function/ { on = 1; getline; next } on && NF { print }' | head -12 \
        | sed -E 's/ \[[^]]*\]$//; s/\?\?\?://' | cut -c1-160
fi
