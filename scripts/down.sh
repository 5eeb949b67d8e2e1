#!/usr/bin/env bash
# Stops the emulator started by `make up` and removes every fcemu container, whoever started it.
set -uo pipefail
state=.fcemu
if [ -f "$state/fcemu.pid" ]; then
  pid=$(cat "$state/fcemu.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state/fcemu.pid"
  echo "fcemu stopped"
fi
if [ -x .venv/bin/fcemu ]; then .venv/bin/fcemu cleanup --all; fi
