#!/usr/bin/env bash
# Builds fcemu's runtime images. The base is, in order: $FCEMU_BASE_IMAGE if set; python:3.11-slim if it is
# present or can be pulled; else a Debian image with python3 made by mmdebstrap from the host's apt sources
# (no container registry needed), built once and kept as fcemu/python3-base.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
official=python:3.11-slim
local_base=fcemu/python3-base:latest

have() { docker image inspect "$1" >/dev/null 2>&1; }

pick_base() {
  if [ -n "${FCEMU_BASE_IMAGE:-}" ]; then echo "$FCEMU_BASE_IMAGE"; return; fi
  if have "$official"; then echo "$official"; return; fi
  if have "$local_base"; then echo "$local_base"; return; fi
  if timeout 20 docker pull -q "$official" >/dev/null 2>&1; then echo "$official"; return; fi
  build_local_base >&2
  echo "$local_base"
}

build_local_base() {
  if ! command -v mmdebstrap >/dev/null; then
    echo "no registry reachable and no mmdebstrap: apt-get install -y mmdebstrap (or set FCEMU_BASE_IMAGE)" >&2
    exit 1
  fi
  . /etc/os-release
  echo "building $local_base from the host's apt sources (${VERSION_CODENAME})..."
  mmdebstrap --quiet --variant=minbase --include=python3 --format=tar "$VERSION_CODENAME" - \
    | docker import - "$local_base" >/dev/null
}

base=$(pick_base)
echo "runtime base image: $base"
docker build -q --build-arg BASE_IMAGE="$base" -t fcemu/runtime-python3:latest "$here/python3" >/dev/null
echo "built fcemu/runtime-python3:latest"
