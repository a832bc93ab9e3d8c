# Sourced by the Makefile's recipes and scripts: one place for the process environment.
# Values already in the environment win over .env, which wins over these defaults.
set -a
HERE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
if [ -f "$HERE_ROOT/.env" ]; then
  while IFS='=' read -r key value; do
    case "$key" in ''|\#*) continue ;; esac
    if [ -z "${!key:-}" ]; then export "$key=$value"; fi
  done < "$HERE_ROOT/.env"
fi
: "${HORTENSE_ACTION_PORT:=5055}"
: "${HORTENSE_RASA_PORT:=5005}"
: "${HORTENSE_WEB_PORT:=8000}"
: "${HORTENSE_ACTION_SERVER_URL:=http://127.0.0.1:${HORTENSE_ACTION_PORT}/webhook}"
: "${HORTENSE_TRACKER_DB:=$HERE_ROOT/var/tracker.db}"
: "${HORTENSE_RASA_URL:=http://localhost:${HORTENSE_RASA_PORT}}"
: "${HORTENSE_RASA_PUBLIC_URL:=http://localhost:${HORTENSE_RASA_PORT}}"
: "${HORTENSE_WEB_BASE_URL:=http://localhost:${HORTENSE_WEB_PORT}}"
: "${HORTENSE_ALLOWED_ORIGINS:=http://localhost:${HORTENSE_WEB_PORT},http://127.0.0.1:${HORTENSE_WEB_PORT}}"
# Messaging channels: empty = disabled (Rasa needs every ${VAR} of credentials.yml to exist).
: "${HORTENSE_TWILIO_ACCOUNT_SID:=}"
: "${HORTENSE_TWILIO_AUTH_TOKEN:=}"
: "${HORTENSE_WHATSAPP_NUMBER:=}"
: "${HORTENSE_WHATSAPP_WEBHOOK_URL:=}"
: "${HORTENSE_TWILIO_API_BASE:=}"
: "${HORTENSE_TELEGRAM_BOT_TOKEN:=}"
: "${HORTENSE_TELEGRAM_WEBHOOK_SECRET:=}"
: "${HORTENSE_TELEGRAM_API_BASE:=}"
: "${HORTENSE_MESSENGER_APP_SECRET:=}"
: "${HORTENSE_MESSENGER_PAGE_ACCESS_TOKEN:=}"
: "${HORTENSE_MESSENGER_VERIFY_TOKEN:=}"
: "${HORTENSE_MESSENGER_API_BASE:=}"
PYTHONPATH="$HERE_ROOT${PYTHONPATH:+:$PYTHONPATH}"
# Rasa and TensorFlow: quiet, deterministic, no telemetry.
RASA_TELEMETRY_ENABLED=false
TF_CPP_MIN_LOG_LEVEL=2
SQLALCHEMY_SILENCE_UBER_WARNING=1
set +a
