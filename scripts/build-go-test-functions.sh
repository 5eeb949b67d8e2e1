#!/usr/bin/env bash
# Build the Go test functions (tests/functions/go-*) offline against a local checkout of
# github.com/aliyun/fc-runtime-go-sdk. Nothing is downloaded: GOPROXY=off, and the SDK (stdlib-only, its
# go.mod has no requirements) comes in through a `replace` directive.
#
#   FC_GO_SDK_DIR   the SDK's source tree (default /work/cache-go/fc-runtime-go-sdk). To make it from the
#                   search tool's mirror:  git --git-dir=/work/.mirror/aliyun+fc-runtime-go-sdk/repo archive HEAD \
#                                            | tar -x -C "$FC_GO_SDK_DIR"
#   OUT_DIR         where binaries go (default build/go-functions/<name>/main, git-ignored)
#
# Needs `go` >= 1.18 (Debian bookworm: apt-get install -y golang-go gives 1.19). The function's own go.mod stays
# replace-free; the build happens in a scratch copy whose go.mod gets the replace.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sdk=${FC_GO_SDK_DIR:-/work/cache-go/fc-runtime-go-sdk}
out=${OUT_DIR:-$root/build/go-functions}
[ -f "$sdk/go.mod" ] && grep -q '^module github.com/aliyun/fc-runtime-go-sdk' "$sdk/go.mod" \
  || { echo "no fc-runtime-go-sdk at $sdk (set FC_GO_SDK_DIR)" >&2; exit 1; }
command -v go >/dev/null || { echo "go not found (apt-get install -y golang-go)" >&2; exit 1; }
export GOPROXY=off GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH:-amd64}
export GOPATH=${GOPATH:-$root/build/gopath} GOCACHE=${GOCACHE:-$root/build/gocache}
for dir in "$root"/tests/functions/go-*/; do
  name=$(basename "$dir")
  scratch=$(mktemp -d)
  cp -a "$dir"/. "$scratch"/
  (cd "$scratch" \
    && go mod edit -replace "github.com/aliyun/fc-runtime-go-sdk=$sdk" \
    && go build -trimpath -ldflags='-s -w' -o "$out/$name/main" .)
  rm -rf "$scratch"
  echo "built $out/$name/main"
done
