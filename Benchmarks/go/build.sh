#!/usr/bin/env bash
# Builds the Go side of the WebSocket load figures with Debian's Go (golang-go) and Debian's
# gorilla/websocket (golang-github-gorilla-websocket-dev, under /usr/share/gocode): GOPATH mode,
# no module download. Output: Benchmarks/.build-go/{gorilla-ws-server,ws-load}.
#   apt-get install -y golang-go golang-github-gorilla-websocket-dev
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../.build-go"
mkdir -p "$out"
export GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOCACHE="$out/cache" GOPROXY=off
for tool in gorilla-ws-server ws-load; do
    (cd "$here/$tool" && go build -o "$out/$tool" .)
done
echo "$out/gorilla-ws-server $out/ws-load"
