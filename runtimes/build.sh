#!/usr/bin/env bash
# Builds fcemu's runtime images, python3, nodejs, go1 and java (the last two: see go1_base and java_base below).
# The python3 and nodejs bases are, in order: its variable if set
# ($FCEMU_BASE_IMAGE for python3, $FCEMU_NODEJS_BASE_IMAGE for nodejs); the official slim image if it is present
# or can be pulled; else a Debian image with the interpreter made by mmdebstrap from the host's apt sources (no
# container registry needed), built once and kept as fcemu/<runtime>-base (fcemu/python3-imagemagick-base for the
# python image with FC's built-in modules). Docker's build cache leaves an image whose base and files did not change
# as it is, so building one never rebuilds the other.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

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

# FC's built-in python modules, one folder per list, as FC's runtimes differ: runtimes/python3/builtins.txt
# (python3.10's, also python3 and python3.9's here) into runtimes/python3/builtins/python3.10 and
# builtins-python3.12.txt into builtins/python3.12, which the image copies; the function's FC_RUNTIME picks one
# (agent/builtins.pth). Installed on the host, where pip reaches the package registry (a `docker build` may not):
# sdists are made wheels first, then everything installed for the image's CPython 3.11 on x86_64 Linux from wheels
# only. Done again only when a list changed (their hash is kept in the folder, and in the image's label below).
# FCEMU_SLIM_IMAGES=1 leaves the folder empty: a slim python image without them.
PYTHON_BUILTINS="python3.10:builtins.txt python3.12:builtins-python3.12.txt"
python_builtins() {
  local target=$here/python3/builtins stamp=slim pip_python entry
  if [ "${FCEMU_SLIM_IMAGES:-}" != 1 ]; then
    stamp=$(for entry in $PYTHON_BUILTINS; do sha256sum "$here/python3/${entry#*:}"; done | sha256sum | cut -d' ' -f1)
  fi
  if [ "$(cat "$target/.fcemu-stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  rm -rf "$target" "$target.tmp"
  mkdir -p "$target.tmp"
  if [ "$stamp" != slim ]; then
    pip_python=${FCEMU_PIP_PYTHON:-$here/../.venv/bin/python}
    [ -x "$pip_python" ] || pip_python=python3
    if [ "$("$pip_python" -c 'import sys; print(sys.version_info[:2] == (3, 11))')" != True ]; then
      echo "FC's built-in python modules need a CPython 3.11 pip on the host (FCEMU_PIP_PYTHON), as the image's;" \
        "or FCEMU_SLIM_IMAGES=1 builds without them" >&2
      exit 1
    fi
    for entry in $PYTHON_BUILTINS; do
      python_builtins_install "$pip_python" "$here/python3/${entry#*:}" "$target.tmp/${entry%%:*}"
    done
  fi
  echo "$stamp" > "$target.tmp/.fcemu-stamp"
  mv "$target.tmp" "$target"
}

# python_builtins_install <pip's python> <list> <folder>
python_builtins_install() {
  local pip_python=$1 list=$2 folder=$3 log=$here/python3/builtins.log
  echo "installing FC's built-in python modules ($list)..."
  # pip's own failure stops the build (its output shown but for the noise of unreachable local indexes).
  pip_quiet() {
    if ! "$pip_python" -m pip "$@" --disable-pip-version-check -q > "$log" 2>&1; then
      grep -v "is ignored: it is neither a file nor a directory" "$log" >&2 || true
      echo "FC's built-in python modules did not install; FCEMU_SLIM_IMAGES=1 builds without them" >&2
      rm -f "$log"
      exit 1
    fi
    rm -f "$log"
  }
  pip_quiet wheel -w "$folder/.wheels" -r "$list"
  pip_quiet install --no-warn-conflicts --root-user-action=ignore --target "$folder" --only-binary=:all: \
    --find-links "$folder/.wheels" --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_36_x86_64 --platform manylinux2014_x86_64 --platform linux_x86_64 -r "$list"
  # tablestore requires enum34 on every python: its `enum` would hide the standard library's (it does not in FC,
  # whose runtime has it elsewhere on the path), so it goes.
  rm -rf "$folder/.wheels" "$folder/bin" "$folder/enum" "$folder"/enum34-*.dist-info
  if ! PYTHONPATH="$folder" "$pip_python" -c "import requests, oss2, alibabacloud_fc20230330.client" 2>/dev/null; then
    echo "FC's built-in python modules did not install (see above); FCEMU_SLIM_IMAGES=1 builds without them" >&2
    exit 1
  fi
}

# FC's built-in Node.js modules (runtimes/nodejs/builtins.json) into runtimes/nodejs/builtins/node_modules, the same
# way: npm on the host (pure JavaScript, install scripts not run), again only when the list changed;
# FCEMU_SLIM_IMAGES=1 leaves them out too.
nodejs_builtins() {
  local list=$here/nodejs/builtins.json target=$here/nodejs/builtins stamp=slim
  if [ "${FCEMU_SLIM_IMAGES:-}" != 1 ]; then stamp=$(sha256sum "$list" | cut -d' ' -f1); fi
  if [ "$(cat "$target/.fcemu-stamp" 2>/dev/null)" = "$stamp" ]; then return; fi
  rm -rf "$target" "$target.tmp"
  mkdir -p "$target.tmp"
  if [ "$stamp" != slim ]; then
    if ! command -v npm >/dev/null; then
      echo "npm is needed for FC's built-in Node.js modules (apt-get install npm), or FCEMU_SLIM_IMAGES=1" >&2
      exit 1
    fi
    echo "installing FC's built-in Node.js modules ($list)..."
    cp "$list" "$target.tmp/package.json"
    (cd "$target.tmp" && npm install --omit=dev --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
    rm -f "$target.tmp/package.json" "$target.tmp/package-lock.json"
  fi
  echo "$stamp" > "$target.tmp/.fcemu-stamp"
  mv "$target.tmp" "$target"
}

# build_runtime <directory> <image> <base>
# The image is labelled with a hash of its inputs (the base image's id, the folder's files but the built-in modules,
# those modules' list stamp): when they did not change it is left as it is without even sending Docker the build
# context (the modules make it hundreds of MB).
build_runtime() {
  local inputs
  echo "$2 base image: $3"
  inputs=$( { docker image inspect -f '{{.Id}}' "$3" 2>/dev/null || echo "$3"; \
    cd "$here/$1" && find . -path ./builtins -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum; \
    cat builtins/.fcemu-stamp 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)
  if [ "$(docker image inspect -f '{{index .Config.Labels "fcemu.inputs"}}' "$2" 2>/dev/null)" = "$inputs" ]; then
    echo "$2 unchanged"
    return
  fi
  docker build -q --build-arg BASE_IMAGE="$3" --label fcemu.inputs="$inputs" -t "$2" "$here/$1" >/dev/null
  echo "built $2"
}

# The python image with FC's built-in modules also has ImageMagick's library (for `wand`, as FC's runtime): a local
# base made with it (its own tag: the slim image's base stays without it, 94 MB smaller), or, on another base, the
# Dockerfile's apt-get.
python_base() {
  if [ "${FCEMU_SLIM_IMAGES:-}" = 1 ]; then
    pick_base "${FCEMU_BASE_IMAGE:-}" python:3.11-slim fcemu/python3-base:latest python3
  else
    pick_base "${FCEMU_BASE_IMAGE:-}" python:3.11-slim fcemu/python3-imagemagick-base:latest \
      python3,libmagickwand-6.q16-6
  fi
}
nodejs_base() { pick_base "${FCEMU_NODEJS_BASE_IMAGE:-}" node:18-slim fcemu/nodejs-base:latest nodejs; }

# go1: the agent (runtimes/go1/agent, standard library only) is compiled here on the host, offline and static, into
# runtimes/go1/build/agent (git-ignored), which the image copies; the image has no Go toolchain. Its base is Debian
# with CA certificates and time zones, made by mmdebstrap from the host's apt sources ($FCEMU_GO_BASE_IMAGE
# overrides it; debian:bookworm-slim is not tried: it has no CA certificates, which a function's HTTPS calls need).
go1_agent() {
  command -v go >/dev/null || { echo "go is needed to build the go1 runtime's agent (apt-get install golang-go)" >&2; exit 1; }
  (
    # Go's default cache is under $HOME, which a CI or service account may not have, or not writable: then one under
    # the temporary folder (not in runtimes/go1, whose files the image's build hashes).
    if [ -z "${GOCACHE:-}" ] && { [ -z "${HOME:-}" ] || [ ! -w "$HOME" ]; }; then
      export GOCACHE=${TMPDIR:-/tmp}/fcemu-go-cache
    fi
    cd "$here/go1/agent" && GOPROXY=off GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
      go build -trimpath -ldflags='-s -w' -o "$here/go1/build/agent.tmp" . && mv "$here/go1/build/agent.tmp" "$here/go1/build/agent"
  )
}
GO_BASE_PACKAGES=ca-certificates,tzdata
go1_base() {
  if [ -n "${FCEMU_GO_BASE_IMAGE:-}" ]; then echo "$FCEMU_GO_BASE_IMAGE"; return; fi
  if ! have fcemu/go1-base:latest; then build_local_base fcemu/go1-base:latest "$GO_BASE_PACKAGES" >&2; fi
  echo fcemu/go1-base:latest
}

# fcemu's Java runtime (java8, java11): a Debian base with OpenJDK 17, Jackson and the servlet API from the host's apt
# sources ($FCEMU_JAVA_BASE_IMAGE overrides it; the official OpenJDK images carry no Debian Jackson, so none is
# tried), and the agent and FC's com.aliyun.fc.runtime interfaces compiled here on the host with javac
# (openjdk-17-jdk-headless) against the base's own jars, into runtimes/java/build (not in git), which the image copies.
# The jars are made reproducible (--date), so an unchanged agent leaves the image as it is.
JAVA_BASE_PACKAGES=openjdk-17-jre-headless,libjackson2-databind-java,libservlet-api-java
JAVA_LIBS="jackson-core jackson-databind jackson-annotations servlet-api"
java_base() {
  if [ -n "${FCEMU_JAVA_BASE_IMAGE:-}" ]; then echo "$FCEMU_JAVA_BASE_IMAGE"; return; fi
  if ! have fcemu/java-base:latest; then build_local_base fcemu/java-base:latest "$JAVA_BASE_PACKAGES" >&2; fi
  echo fcemu/java-base:latest
}

# java_agent <base image>
java_agent() {
  local dir=$here/java build=$here/java/build container jar date=2000-01-01T00:00:00Z
  if ! command -v javac >/dev/null; then
    echo "javac is needed to build the Java runtime: apt-get install -y openjdk-17-jdk-headless" >&2
    exit 1
  fi
  rm -rf "$build"
  mkdir -p "$build/lib" "$build/api" "$build/boot" "$build/agent"
  container=$(docker create "$1" true)
  for jar in $JAVA_LIBS; do docker cp -L "$container:/usr/share/java/$jar.jar" "$build/lib/" >/dev/null; done
  docker rm "$container" >/dev/null
  local libs=$build/fc-runtime.jar
  for jar in $JAVA_LIBS; do libs=$libs:$build/lib/$jar.jar; done
  # The interfaces for Java 8 (class files a java8 function compiled against them loads); the agent for the JVM's 17.
  javac -nowarn --release 8 -cp "$build/lib/servlet-api.jar" -d "$build/api" $(find "$dir/src" -name '*.java')
  jar --create --date="$date" --file "$build/fc-runtime.jar" -C "$build/api" .
  javac -nowarn --release 17 -d "$build/boot" "$dir/agent/src/fcemu/boot/Main.java"
  jar --create --date="$date" --file "$build/fcemu-boot.jar" -C "$build/boot" .
  javac -nowarn --release 17 -cp "$libs" -d "$build/agent" $(find "$dir/agent/src/fcemu/agent" -name '*.java')
  jar --create --date="$date" --file "$build/fcemu-agent.jar" -C "$build/agent" .
  rm -rf "$build/api" "$build/boot" "$build/agent"
}

java_image() {
  local base
  base=$(java_base)
  java_agent "$base"
  build_runtime java "${FCEMU_JAVA_RUNTIME_IMAGE:-fcemu/runtime-java:latest}" "$base"
}

# Sourced (tests/benchmarks/run.py's image rows, on a copy of this folder), it only defines the functions above.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

# The images' tags are the emulator's settings' (FCEMU_PYTHON_RUNTIME_IMAGE, FCEMU_NODEJS_RUNTIME_IMAGE): a build
# to another tag is the one the emulator then runs.
python_builtins
build_runtime python3 "${FCEMU_PYTHON_RUNTIME_IMAGE:-fcemu/runtime-python3:latest}" "$(python_base)"
nodejs_builtins
build_runtime nodejs "${FCEMU_NODEJS_RUNTIME_IMAGE:-fcemu/runtime-nodejs:latest}" "$(nodejs_base)"
go1_agent
build_runtime go1 "${FCEMU_GO_RUNTIME_IMAGE:-fcemu/runtime-go1:latest}" "$(go1_base)"
java_image
