#!/usr/bin/env bash
# Builds one Go function (a folder with a go.mod requiring github.com/aliyun/fc-runtime-go-sdk) into a static
# linux binary, offline: nothing is downloaded (GOPROXY=off). The SDK comes in through a `replace` onto a local
# copy, by default the repository's vendored one (functions/sdk/fc-runtime-go-sdk); the function's own go.mod
# stays replace-free, as a user's project is: the build happens in a scratch copy whose go.mod gets the replace.
#
#   scripts/build-go-function.sh <source dir> <output binary>
#
#   FC_GO_SDK_DIR   another copy of the SDK's source tree
#   GO_DEBUG=1      a binary to debug: symbols kept, optimisations and inlining off (-gcflags='all=-N -l');
#                   else stripped (-ldflags='-s -w'), as a release build
#   GOCACHE         Go's build cache (default: Go's own, under $HOME/.cache; ${TMPDIR:-/tmp}/fcemu-go-cache when
#                   $HOME is unset or not writable, as for a CI or service account)
#
# Needs `go` >= 1.18 (Debian bookworm's golang-go is 1.19). The SDK imports only Go's standard library.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 <source dir> <output binary>" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
source_dir=$(cd "$1" && pwd)
mkdir -p "$(dirname "$2")"
output=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
sdk=$(cd "${FC_GO_SDK_DIR:-$root/functions/sdk/fc-runtime-go-sdk}" && pwd)
grep -q '^module github.com/aliyun/fc-runtime-go-sdk$' "$sdk/go.mod" 2>/dev/null \
  || { echo "no fc-runtime-go-sdk at $sdk (FC_GO_SDK_DIR)" >&2; exit 1; }
command -v go >/dev/null || { echo "go not found (apt-get install -y golang-go)" >&2; exit 1; }
export GOPROXY=off GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH:-amd64}
if [ -z "${GOCACHE:-}" ] && { [ -z "${HOME:-}" ] || [ ! -w "$HOME" ]; }; then
  export GOCACHE=${TMPDIR:-/tmp}/fcemu-go-cache
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -a "$source_dir"/. "$scratch"/
cd "$scratch"
go mod edit -replace "github.com/aliyun/fc-runtime-go-sdk=$sdk"
flags=(-ldflags='-s -w')
if [ "${GO_DEBUG:-}" = 1 ]; then flags=(-gcflags='all=-N -l'); fi
go build -trimpath "${flags[@]}" -o "$output" .
