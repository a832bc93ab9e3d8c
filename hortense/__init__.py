"""Hortense's own code, by feature: plain Python, testable without a Rasa server.

`account`, `energy`, `billing`, `appointments` and `documents` answer from the database (`db`); `security` holds
identity, signing, link codes and redaction; `replies` the French wording; `ops` logging, metrics and the process
launcher; `settings` is the one reader of the environment and `clock` the one clock. Only `hortense.rasa` imports
Rasa: the plug-ins the Rasa server loads (tracker store, lock store, patches). The Rasa-facing code lives beside
this package: `actions/` (rasa-sdk), `channels/` (Rasa connectors), `web/` (the Sanic web app).
"""
