#!/usr/bin/env bash
# `make run`: start every Hortense process in the foreground, print the URLs, stop them all on Ctrl-C.
# The processes are started by the project's one launcher (hortense/ops/launcher.py); this script loads the
# environment (scripts/env.sh: .env, ports, URLs) and hands over to it. Logs: var/log/<process>.log.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
exec "$ROOT/.venv/bin/python" -m hortense.ops.launcher
