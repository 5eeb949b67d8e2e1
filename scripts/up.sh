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
redis_port=${FCEMU_REDIS_PORT:-6390}
if [ -z "${FCEMU_REDIS_URL:-}" ]; then
  # fcemu's own Redis, with AOF on, its data under .fcemu/redis (kept across `make down`).
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    if ! command -v redis-server >/dev/null; then
      echo "redis-server is missing: apt-get install -y redis-server (or set FCEMU_REDIS_URL)" >&2; exit 1
    fi
    mkdir -p "$state/redis"
    redis-server scripts/redis.conf --port "$redis_port" --dir "$(pwd)/$state/redis" \
      --daemonize yes --pidfile "$(pwd)/$state/redis.pid" --logfile "$(pwd)/$state/redis.log"
    for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "redis started on 127.0.0.1:$redis_port (AOF in $state/redis)"
  fi
  export FCEMU_REDIS_URL="redis://127.0.0.1:$redis_port/0"
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
