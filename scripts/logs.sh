#!/usr/bin/env bash
# `make logs`: the emulator's own log (.fcemu/fcemu.log) and every function's lines (`fcemu logs -f`, prefixed
# with the function and request id), together, until Ctrl-C.
set -uo pipefail
port=${1:-9000}
log=.fcemu/fcemu.log
tail -n 50 -F "$log" &
tail_pid=$!
trap 'kill "$tail_pid" 2>/dev/null' EXIT INT TERM
if ! FCEMU_PORT=$port .venv/bin/fcemu logs -f 2>/dev/null | sed -u 's/^/[function] /'; then :; fi
# The emulator is not up (or went away): its own log still tells why.
echo "[fcemu logs] the functions' lines are not followed (is the emulator up on port $port?)" >&2
wait "$tail_pid"
