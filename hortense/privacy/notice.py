"""Where customers read about their data (the policy page) and how long transcripts are kept; the words
(retention period, the widget's notice) are in hortense/replies/privacy.py."""

from __future__ import annotations

from hortense.settings import get_settings

POLICY_URL = "/confidentialite"


def retention_days() -> int:
    return get_settings().transcript_retention_days
