"""Process logging: plain text by default, one JSON object per line with HORTENSE_LOG_FORMAT=json.

Call `configure_logging("<service>")` once from each entry point, *after* the framework has set its own
logging up (Rasa configures coloredlogs in its CLI before it loads the channels, Sanic adds its loggers
when the app is created): every handler already installed gets the chosen formatter, and the root
logger gets a stderr handler if it has none. Idempotent.

- Rasa server: from the website connector (`HortenseWebInput.from_credentials`), which Rasa loads at start-up.
- Action server: `actions/server.py` `main()` (instead of `logging.basicConfig`).
- Web app, scheduler: their `main()`.

Environment: HORTENSE_LOG_FORMAT (`text` | `json`), HORTENSE_LOG_LEVEL (default INFO).
JSON fields: ts (UTC, ISO 8601), level, logger, message, service, pid, and exc_info when there is one;
anything passed as `extra={...}` is added (conversation ids should be passed that way, never tokens).
Secrets are redacted before formatting by the log-record factory of hortense.rasa.tracker_store.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from hortense.settings import get_settings

# Attributes every LogRecord has: everything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s - %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, service: str = "hortense") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, tz=dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                payload[key] = value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            payload["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False)


def log_format() -> str:
    return get_settings().log_format


def _all_loggers() -> list[logging.Logger]:
    loggers = [logging.getLogger()]
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            loggers.append(logger)
    return loggers


def configure_logging(service: str, level: str | None = None, fmt: str | None = None, stream: Any = None) -> str:
    """JSON: every installed handler gets the JSON formatter. Text: the framework's formatters are kept.
    Root gets a stderr handler (or one on `stream`) when it has none.

    Returns the format used ("text" or "json").
    """
    chosen = (fmt or log_format()).lower()
    formatter: logging.Formatter = JsonFormatter(service) if chosen == "json" else logging.Formatter(TEXT_FORMAT)
    root = logging.getLogger()
    if stream is not None:  # an explicit stream replaces our previous handler
        for old in [h for h in root.handlers if h.get_name() == "hortense"]:
            root.removeHandler(old)
    if stream is not None or not root.handlers:
        handler: logging.Handler = logging.StreamHandler(stream or sys.stderr)
        handler.set_name("hortense")
        root.addHandler(handler)
    for logger in _all_loggers():
        for handler in logger.handlers:
            if chosen == "json" or handler.get_name() == "hortense":
                handler.setFormatter(formatter)
    root.setLevel((level or get_settings().log_level).upper())
    return chosen
