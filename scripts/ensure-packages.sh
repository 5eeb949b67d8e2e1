#!/usr/bin/env bash
# Installs the Debian packages fcemu needs when they are missing: redis-server (the queue), mmdebstrap (a
# runtime base image without a container registry), curl (`make up` asks the emulator's health route),
# docker.io (when no Docker engine is installed at all), iproute2 (`ip`: the two-engine test gives its second
# dockerd a bridge of its own), npm (runtimes/build.sh installs FC's built-in Node.js modules with it on the host;
# not needed with FCEMU_SLIM_IMAGES=1), golang-go and openjdk-17-jdk-headless (runtimes/build.sh compiles the go1
# and java images' agents on the host; the tests build their Go and Java functions with them too).
# As root it runs apt-get; otherwise it says what to install.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v javac >/dev/null 2>&1 || need+=(openjdk-17-jdk-headless)
[ "${FCEMU_SLIM_IMAGES:-}" = 1 ] || command -v npm >/dev/null 2>&1 || need+=(npm)
# A docker client alone is not enough: without an engine that answers, dockerd must be installed to start one.
if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1; then need+=(docker.io); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]}; install them (Debian/Ubuntu: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
