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
if [ -f "$state/redis.pid" ]; then
  # SHUTDOWN writes the AOF out before Redis exits; the queue is there again on the next `make up`.
  redis-cli -p "${FCEMU_REDIS_PORT:-6390}" shutdown >/dev/null 2>&1 || kill -TERM "$(cat "$state/redis.pid")" 2>/dev/null
  rm -f "$state/redis.pid"
  echo "redis stopped (data kept in $state/redis)"
fi
