#!/usr/bin/env bash
# HPACK figures: Epsilon vs NIOHPACK vs nghttp2, release build, best of N passes.
# Usage: bash Benchmarks/HPACK/run.sh [passes]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")"
if ! [ -e /usr/include/nghttp2/nghttp2.h ]; then
    apt-get install -y libnghttp2-dev
fi
swift build -c release --product HPACKBenchmark
.build/release/HPACKBenchmark "$(cd ../../.. && pwd)/shared/vectors/hpack" "${1:-20}"
