#!/usr/bin/env bash
# Starts fcemu's Redis and the emulator in the background (pid and log under .fcemu/) and waits until the
# emulator answers on its health route. A running emulator is one that answers there, not a pid that exists.
set -euo pipefail
port=${1:-9000}
state=.fcemu
pid_file=$state/fcemu.pid
log=$state/fcemu.log
mkdir -p "$state"

host=${FCEMU_HOST:-127.0.0.1}
case "$host" in
  0.0.0.0 | "") probe_host=127.0.0.1 ;;
  ::) probe_host="[::1]" ;;
  *:*) probe_host="[$host]" ;;
  *) probe_host=$host ;;
esac
health_url="http://$probe_host:$port/_fcemu/health"

answers() { curl -fsS --max-time 2 -o /dev/null "$health_url" 2>/dev/null; }

# A process that runs (kill -0 also succeeds for a zombie, which has exited but was not reaped).
running() {
  local state_field
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  state_field=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
  [ "$state_field" != Z ]
}

is_fcemu() { [ ! -r "/proc/$1/cmdline" ] || tr '\0' ' ' <"/proc/$1/cmdline" | grep -Eq '(fcemu|emulator) serve'; }

# Why the emulator did not start: its "could not start" lines (or the preflight's "fcemu: ..." line), else the
# end of its log.
reason() {
  local found
  found=$(awk '/could not start|^fcemu: /{on=1; print; next} on && (/^ERROR: |^INFO: |^[0-9]{4}-[0-9]{2}-[0-9]{2} /){on=0} on' "$log")
  if [ -n "$found" ]; then echo "$found"; else tail -30 "$log"; fi
}

# fcemu's own Redis, with AOF on, its data under .fcemu/redis (kept across `make down`); started again when it is
# down, also under an emulator that still runs.
redis_port=${FCEMU_REDIS_PORT:-6390}
if [ -z "${FCEMU_REDIS_URL:-}" ]; then
  redis_ready() { [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; }  # not while it loads its AOF
  if ! redis_ready; then
    if ! command -v redis-server >/dev/null; then
      echo "redis-server is missing: apt-get install -y redis-server (or set FCEMU_REDIS_URL)" >&2; exit 1
    fi
    mkdir -p "$state/redis"
    redis-server scripts/redis.conf --port "$redis_port" --dir "$(pwd)/$state/redis" \
      --daemonize yes --pidfile "$(pwd)/$state/redis.pid" --logfile "$(pwd)/$state/redis.log"
    deadline=$((SECONDS + 60))  # a large AOF takes a while to load
    until redis_ready; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        echo "redis-server did not answer on 127.0.0.1:$redis_port within 60 s:" >&2
        tail -20 "$state/redis.log" >&2 2>/dev/null
        exit 1
      fi
      sleep 0.1
    done
    echo "redis started on 127.0.0.1:$redis_port (AOF in $state/redis)"
  fi
  export FCEMU_REDIS_URL="redis://127.0.0.1:$redis_port/0"
fi

if [ -f "$pid_file" ]; then
  old=$(cat "$pid_file")
  if running "$old" && answers; then
    echo "fcemu already runs (pid $old) on http://$probe_host:$port"
    exit 0
  fi
  if running "$old" && is_fcemu "$old"; then
    echo "fcemu (pid $old) runs but does not answer on $health_url; stopping it"
    kill -TERM "$old" 2>/dev/null || true
    kill -CONT "$old" 2>/dev/null || true  # a stopped process gets the TERM only once it continues
    for _ in $(seq 1 150); do running "$old" || break; sleep 0.1; done
    if running "$old"; then
      kill -KILL "$old" 2>/dev/null || true
      for _ in $(seq 1 50); do running "$old" || break; sleep 0.1; done
    fi
  else
    echo "stale $pid_file (pid $old is gone or is not fcemu); starting anew"
  fi
  rm -f "$pid_file"
fi

if answers; then
  # Not this checkout's emulator (its pid file says otherwise): starting another would fail to bind, and this
  # script must not take the other one's answer for its own.
  echo "another fcemu already answers on $health_url; stop it, or use another port (make up PORT=9100)" >&2
  exit 1
fi

# TEMPLATE (make up TEMPLATE=path/to/s.yaml): a Serverless Devs project whose fc3 resources are served too.
serve_args=()
if [ -n "${TEMPLATE:-}" ]; then serve_args+=(--template "$TEMPLATE"); fi
# DEBUG (make up DEBUG=fn or fn1,fn2:5679): functions run under a debugger, their ports in the log.
if [ -n "${DEBUG:-}" ]; then serve_args+=(--debug "$DEBUG"); fi
FCEMU_PORT=$port setsid nohup .venv/bin/fcemu serve ${serve_args[@]+"${serve_args[@]}"} >"$log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$pid_file"
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
  if answers; then
    echo "fcemu is up on http://$probe_host:$port (log: $log, stop: make down)"
    exit 0
  fi
  if ! running "$pid"; then
    code=0
    wait "$pid" || code=$?
    rm -f "$pid_file"
    echo "fcemu failed to start (exit code $code):" >&2
    reason >&2
    echo "(full log: $log)" >&2
    exit 1
  fi
  sleep 0.1
done
echo "fcemu did not answer on $health_url within 60 s; see $log" >&2
exit 1
