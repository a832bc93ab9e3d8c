"""Rasa plug-ins: the only part of `hortense` that imports Rasa, loaded by the Rasa server process.

`tracker_store` keeps typed secrets out of what Rasa writes (the redacting SQL tracker store, the event stream,
the logs), `lock_store` is the Redis lock store that stays correct across several Rasa instances (both named
by their dotted path in `endpoints.yml` and `deploy/`), and `patches` holds every run-time patch of a Rasa
class, each with the Rasa 3.6.21 defect that forces it.
"""
