#!/usr/bin/env bash
# Fetches and installs the peers the benchmarks compare against. Run once, as root, from anywhere:
#   bash Benchmarks/setup.sh
# - C parsers from PyPI source distributions (never committed; unpacked into Benchmarks/.peers/,
#   which git ignores): picohttpparser from `pycohttpparser`, llhttp 9.x from `httptools`.
#   The benchmark package compiles them itself (see Sources/CBenchPeers) at -O2 for plain
#   x86-64, the same instruction-set level as the Swift code (no -march=native).
# - Debian packages: libhttp-parser-dev (the old http-parser), libnghttp2-dev (HPACK peer),
#   and for the load figures nginx-light, wrk; valgrind for callgrind.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="$here/.peers"
mkdir -p "$peers/sdist"

need=()
[ -e /usr/include/http_parser.h ] || need+=(libhttp-parser-dev)
[ -e /usr/include/nghttp2/nghttp2.h ] || need+=(libnghttp2-dev)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v valgrind >/dev/null || need+=(valgrind)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Pinned versions: picohttpparser as vendored by pycohttpparser 1.1.0, llhttp 9.x as vendored by
# httptools 0.9.0 (llhttp 9.4.3 when this was written).
if ! [ -e "$peers/picohttpparser/picohttpparser.c" ]; then
    python3 -m pip download -q --no-deps --no-binary :all: pycohttpparser==1.1.0 -d "$peers/sdist"
    rm -rf "$peers/picohttpparser" && mkdir -p "$peers/picohttpparser"
    tar xzf "$peers/sdist/pycohttpparser-1.1.0.tar.gz" -C "$peers/sdist"
    cp "$peers/sdist/pycohttpparser-1.1.0/src/pycohttpparser/picohttpparser."[ch] "$peers/picohttpparser/"
fi
if ! [ -e "$peers/llhttp/llhttp.c" ]; then
    python3 -m pip download -q --no-deps --no-binary :all: httptools==0.9.0 -d "$peers/sdist"
    rm -rf "$peers/llhttp" && mkdir -p "$peers/llhttp"
    tar xzf "$peers/sdist/httptools-0.9.0.tar.gz" -C "$peers/sdist"
    cp "$peers/sdist/httptools-0.9.0/vendor/llhttp/src/"*.c "$peers/sdist/httptools-0.9.0/vendor/llhttp/include/llhttp.h" "$peers/llhttp/"
fi
major=$(sed -n 's/#define LLHTTP_VERSION_MAJOR //p' "$peers/llhttp/llhttp.h")
minor=$(sed -n 's/#define LLHTTP_VERSION_MINOR //p' "$peers/llhttp/llhttp.h")
patch=$(sed -n 's/#define LLHTTP_VERSION_PATCH //p' "$peers/llhttp/llhttp.h")
echo "peers ready in $peers: picohttpparser (pycohttpparser 1.1.0), llhttp $major.$minor.$patch (httptools 0.9.0)," \
     "http-parser $(dpkg-query -W -f='${Version}' libhttp-parser-dev), nghttp2 $(dpkg-query -W -f='${Version}' libnghttp2-dev)"
