#!/usr/bin/env bash
# `make run`: start every Hortense process in the foreground, print the URLs, stop them all on Ctrl-C.
# The processes are started by the project's one launcher (hortense/ops/launcher.py); this script loads the
# environment (scripts/env.sh: .env, ports, URLs) and hands over to it. Logs: var/log/<process>.log.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
# The demo customer picker (log in as any demo customer) is for this laptop only: on here, off everywhere else.
export HORTENSE_DEMO_LOGIN="${HORTENSE_DEMO_LOGIN:-1}"
exec "$ROOT/.venv/bin/python" -m hortense.ops.launcher
