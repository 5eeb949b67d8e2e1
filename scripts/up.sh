#!/usr/bin/env bash
# Starts the emulator in the background (pid and log under .fcemu/) and waits until it answers.
set -euo pipefail
port=${1:-9000}
state=.fcemu
mkdir -p "$state"
if [ -f "$state/fcemu.pid" ] && kill -0 "$(cat "$state/fcemu.pid")" 2>/dev/null; then
  echo "fcemu already runs (pid $(cat "$state/fcemu.pid")) on http://${FCEMU_HOST:-127.0.0.1}:$port"
  exit 0
fi
FCEMU_PORT=$port setsid nohup .venv/bin/fcemu serve >"$state/fcemu.log" 2>&1 < /dev/null &
echo $! >"$state/fcemu.pid"
for _ in $(seq 1 600); do
  if grep -q "Uvicorn running on" "$state/fcemu.log"; then
    echo "fcemu is up on http://${FCEMU_HOST:-127.0.0.1}:$port (log: $state/fcemu.log, stop: make down)"
    exit 0
  fi
  if ! kill -0 "$(cat "$state/fcemu.pid")" 2>/dev/null; then
    echo "fcemu failed to start:" >&2; tail -30 "$state/fcemu.log" >&2; exit 1
  fi
  sleep 0.1
done
echo "fcemu did not start within 60 s; see $state/fcemu.log" >&2
exit 1
