#!/usr/bin/env bash
# Make sure a Docker engine answers: install Debian's docker.io if needed and start dockerd as
# root with host networking only (no bridge, no iptables: containers use --network host).
set -euo pipefail
log=/var/log/streamconform-dockerd.log

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

if engine_answers; then
  echo "docker: an engine answers"
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "docker: dockerd is not installed; run this as root to install docker.io" >&2; exit 1; fi
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q docker.io
fi
if [ "$(id -u)" != 0 ]; then echo "docker: no engine answers and starting dockerd needs root" >&2; exit 1; fi
echo "docker: starting dockerd (log: $log)"
nohup dockerd --bridge=none --iptables=false --ip6tables=false >"$log" 2>&1 &
for _ in $(seq 1 120); do
  engine_answers && { echo "docker: engine ready"; exit 0; }
  kill -0 $! 2>/dev/null || break
  sleep 0.5
done
echo "docker: dockerd did not come up; last log lines:" >&2
tail -n 5 "$log" >&2
exit 1
