#!/usr/bin/env bash
# Stops the emulator started by `make up` and removes every fcemu container, whoever started it.
set -uo pipefail
state=.fcemu
if [ -f "$state/fcemu.pid" ]; then
  pid=$(cat "$state/fcemu.pid")
  # Only an fcemu that runs: not a zombie (kill -0 succeeds for one), not another process that got the pid.
  running() {
    kill -0 "$1" 2>/dev/null || return 1
    [ -r "/proc/$1/stat" ] || return 0
    [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)" != Z ]
  }
  if running "$pid" && { [ ! -r "/proc/$pid/cmdline" ] || tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq '(fcemu|emulator) serve'; }; then
    kill -TERM "$pid"
    for _ in $(seq 1 150); do running "$pid" || break; sleep 0.1; done
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
