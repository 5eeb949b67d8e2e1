#!/usr/bin/env bash
# Builds fcemu's runtime images, python3 and nodejs. Each one's base is, in order: its variable if set
# ($FCEMU_BASE_IMAGE for python3, $FCEMU_NODEJS_BASE_IMAGE for nodejs); the official slim image if it is present
# or can be pulled; else a Debian image with the interpreter made by mmdebstrap from the host's apt sources (no
# container registry needed), built once and kept as fcemu/<runtime>-base. Docker's build cache leaves an image
# whose base and files did not change as it is, so building one never rebuilds the other.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

have() { docker image inspect "$1" >/dev/null 2>&1; }

# pick_base <override> <official image> <local base> <apt package>
pick_base() {
  local override=$1 official=$2 local_base=$3 package=$4
  if [ -n "$override" ]; then echo "$override"; return; fi
  if have "$official"; then echo "$official"; return; fi
  if have "$local_base"; then echo "$local_base"; return; fi
  if timeout 20 docker pull -q "$official" >/dev/null 2>&1; then echo "$official"; return; fi
  build_local_base "$local_base" "$package" >&2
  echo "$local_base"
}

build_local_base() {
  local local_base=$1 package=$2
  if ! command -v mmdebstrap >/dev/null; then
    echo "no registry reachable and no mmdebstrap: apt-get install -y mmdebstrap (or set the base image variable)" >&2
    exit 1
  fi
  . /etc/os-release
  echo "building $local_base from the host's apt sources (${VERSION_CODENAME})..."
  mmdebstrap --quiet --variant=minbase --include="$package" --format=tar "$VERSION_CODENAME" - \
    | docker import - "$local_base" >/dev/null
}

# build_runtime <directory> <image> <base>
build_runtime() {
  echo "$2 base image: $3"
  docker build -q --build-arg BASE_IMAGE="$3" -t "$2" "$here/$1" >/dev/null
  echo "built $2"
}

build_runtime python3 fcemu/runtime-python3:latest \
  "$(pick_base "${FCEMU_BASE_IMAGE:-}" python:3.11-slim fcemu/python3-base:latest python3)"
build_runtime nodejs fcemu/runtime-nodejs:latest \
  "$(pick_base "${FCEMU_NODEJS_BASE_IMAGE:-}" node:18-slim fcemu/nodejs-base:latest nodejs)"
