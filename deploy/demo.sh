#!/usr/bin/env bash
# The demo: a local Kafka broker (unless KAFKA_BOOTSTRAP points at a reachable one),
# a riskstream worker, simulated traffic with injected fraud, signals as they arrive.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
started_broker=0

reachable() {  # host:port
  local host="${1%:*}" port="${1##*:}"
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

demo_pid=""
cleanup() {
  # The demo (and its worker) first: a worker whose broker vanished only logs errors.
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ "$started_broker" = 1 ]; then
    echo "demo: stopping the broker it started"
    bash deploy/local/kafka.sh stop || true
  fi
}
trap cleanup EXIT

if [ -n "${KAFKA_BOOTSTRAP:-}" ] && reachable "${KAFKA_BOOTSTRAP%%,*}"; then
  echo "demo: using the broker at $KAFKA_BOOTSTRAP"
else
  if ! bash deploy/local/kafka.sh status >/dev/null 2>&1; then
    started_broker=1
  fi
  KAFKA_BOOTSTRAP=$(bash deploy/local/kafka.sh start | tail -n 1)
  export KAFKA_BOOTSTRAP
fi

export RISKSTREAM_DATA_DIR="${RISKSTREAM_DATA_DIR:-./var/demo}"
# In the background so that INT and TERM reach this script's trap at once; the trap
# passes them on (a background job of a script ignores Ctrl-C by itself).
"$VENV/bin/riskstream" demo "$@" &
demo_pid=$!
trap 'cleanup; trap - EXIT; exit 130' INT TERM
wait "$demo_pid"
