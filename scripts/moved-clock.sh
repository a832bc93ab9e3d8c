#!/usr/bin/env bash
# The unit suite on awkward days: proof that no test depends on the date it runs (issue 13).
# libfaketime moves the whole process's clock (Python, SQLite, PyJWT alike), starting at each instant
# below and ticking from there. Needs Debian's `faketime` package: .ci/run installs it, and under CI=true
# a missing faketime is a failure, never a skip.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

# Instants in UTC (the faketime process runs with TZ=UTC; Hortense converts to Europe/Paris itself).
MOMENTS=(
  "2026-12-05 09:00:00|a Saturday morning"
  "2027-03-28 00:45:00|01:45 in Paris, 15 minutes before the spring DST change"
  "2027-10-31 00:45:00|02:45 CEST in Paris, 15 minutes before the autumn DST change"
  "2026-12-31 22:30:00|31 December, 23:30 in Paris"
  "$(date -u -d '+1 year' '+%Y-%m-%d %H:%M:%S')|a year from now"
)

if ! command -v faketime >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "faketime is missing (apt-get install faketime): the moved-clock runs cannot be skipped in CI" >&2
    exit 1
  fi
  echo "faketime not installed: moved-clock runs not done (apt-get install faketime to run them)" >&2
  exit 0
fi

# Two moments at a time (the runs are independent: each test has its own temporary database). The Redis and
# PostgreSQL cases ran in the main run; they share one server, so they stay out of these parallel runs.
JOBS="${MOVED_CLOCK_JOBS:-2}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
run_at() {  # index, instant
  TZ=UTC faketime "$2" scripts/pytest.sh tests/unit -q -p no:cacheprovider -m "not redis and not postgres" \
    >"$logs/$1.log" 2>&1
  echo $? >"$logs/$1.code"
}
for i in "${!MOMENTS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
  run_at "$i" "${MOMENTS[$i]%%|*}" &
done
wait

failed=0
for i in "${!MOMENTS[@]}"; do
  moment="${MOMENTS[$i]}"
  echo "== unit suite at ${moment%%|*} UTC (${moment#*|})"
  grep -E '^(FAILED|ERROR) ' "$logs/$i.log"
  tail -n 1 "$logs/$i.log"
  [ "$(cat "$logs/$i.code")" -eq 0 ] || failed=1
done
exit "$failed"
