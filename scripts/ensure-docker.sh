#!/usr/bin/env bash
# Makes sure a Docker engine answers: uses the running one, else (as root, where dockerd is installed) starts
# dockerd in the background and waits until it answers.
set -euo pipefail
if docker info >/dev/null 2>&1; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "no Docker engine answers and dockerd is not installed (Debian: apt-get install -y docker.io)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "no Docker engine answers; start it (sudo systemctl start docker) or run this as root" >&2
  exit 1
fi
# A pid file left by a dockerd that is gone stops a new one from starting.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
mkdir -p /var/log
setsid nohup dockerd >/var/log/fcemu-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 300); do
  if docker info >/dev/null 2>&1; then echo "dockerd started"; exit 0; fi
  sleep 0.1
done
echo "dockerd did not answer within 30 s; see /var/log/fcemu-dockerd.log" >&2
tail -20 /var/log/fcemu-dockerd.log >&2
exit 1
