"""Action server entry point: rasa-sdk's app, reachable only by Rasa (shared token) and on loopback by default."""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app
from sanic import response

from hortense.ops import metrics
from hortense.ops.logging_setup import configure_logging
from hortense.settings import get_settings

logger = logging.getLogger(__name__)
TOKEN_PARAM = "hortense_token"


def build_app():
    # No CORS: only Rasa calls this server, never a browser (rasa-sdk's default is `Access-Control-Allow-Origin: *`).
    app = create_app("actions", cors_origins=[])
    expected = get_settings().action_server_token

    @app.middleware("request")
    async def require_rasa_token(request):
        if request.path == "/health":
            if request.method not in ("GET", "HEAD"):  # rasa-sdk answers 500 for any other method
                return response.json({"error": "method not allowed"}, status=405, headers={"Allow": "GET, HEAD"})
            return None
        given = request.args.get(TOKEN_PARAM) or request.headers.get("X-Hortense-Token") or ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            logger.warning("action server call refused (bad or missing token) from %s", request.ip)
            return response.json({"error": "forbidden"}, status=403)
        return None

    @app.middleware("response")
    async def no_cross_origin(_request, resp):
        resp.headers.pop("Access-Control-Allow-Origin", None)

    @app.exception(Exception)
    async def error(request, exc):  # rasa-sdk turns a wrong method or path into a 500 with the request echoed
        status = getattr(exc, "status_code", 500) or 500
        if status >= 500:
            logger.exception("action server error on %s", request.path)
        return response.json({"error": "not found" if status == 404 else "error"}, status=status)

    return app


def main() -> None:
    configure_logging("actions")
    metrics.start_metrics_server()  # only when HORTENSE_METRICS_PORT is set
    from hortense.rasa.tracker_store import install_log_redaction

    install_log_redaction()
    settings = get_settings()
    build_app().run(settings.action_host, settings.action_port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
