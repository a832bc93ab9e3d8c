#!/usr/bin/env bash
# Start every Hortense process in the foreground, print the URLs, stop them all on Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
PY="$ROOT/.venv/bin/python"
RASA="$ROOT/.venv/bin/rasa"
MODEL="$("$PY" scripts/train.py --print)"
LOGS="$ROOT/var/log"
mkdir -p "$LOGS"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

start() {  # name, command...
  local name="$1"; shift
  "$@" >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  echo "started $name (pid $!, log var/log/$name.log)"
}

wait_http() {  # name, url, seconds
  for _ in $(seq 1 "$3"); do
    if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
    sleep 1
  done
  echo "$1 did not start in $3 s; see var/log/$1.log" >&2
  tail -n 30 "$LOGS/$1.log" >&2 || true
  exit 1
}

start actions "$PY" -m actions.server
start rasa "$RASA" run -m "$MODEL" --credentials credentials.yml --endpoints endpoints.yml \
  -i "${HORTENSE_RASA_HOST:-127.0.0.1}" -p "$HORTENSE_RASA_PORT" --cors "${HORTENSE_ALLOWED_ORIGINS:-http://localhost:$HORTENSE_WEB_PORT}"
if [ -f web/app.py ]; then start web "$PY" -m web.app; fi
if [ -f hortense/appointments/scheduler.py ]; then start scheduler "$PY" -m hortense.appointments.scheduler; fi

wait_http actions "http://127.0.0.1:$HORTENSE_ACTION_PORT/health" 60
wait_http rasa "http://127.0.0.1:$HORTENSE_RASA_PORT/webhooks/web/" 180
if [ -f web/app.py ]; then wait_http web "http://127.0.0.1:$HORTENSE_WEB_PORT/health" 60; fi

cat <<MSG

Hortense is running.
  Rasa server (website channel):  http://localhost:$HORTENSE_RASA_PORT/webhooks/web/  (socket.io at /socket.io)
  Action server:                  http://127.0.0.1:$HORTENSE_ACTION_PORT  (reachable by Rasa only: token)
MSG
if [ -f web/app.py ]; then
  echo "  Customer space demo:            http://localhost:$HORTENSE_WEB_PORT/"
  echo "  Advisors' console:              http://localhost:$HORTENSE_WEB_PORT/console/"
fi
cat <<MSG

Chat in a terminal as a demo customer (in another shell):  make chat CUSTOMER=C1001
Demo customers:                                              make customers
Press Ctrl-C to stop everything.
MSG
wait -n "${pids[@]}"
echo "a process stopped; see var/log/" >&2
exit 1
