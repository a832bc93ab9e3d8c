"""What customers are told about their data: the retention period in words and the widget's short notice."""

from __future__ import annotations

from hortense.settings import get_settings

POLICY_URL = "/confidentialite"


def retention_days() -> int:
    return get_settings().transcript_retention_days


def retention_label(days: int | None = None) -> str:
    """'6 mois' for 180 days, '1 an' for 365, else 'N jours'."""
    days = retention_days() if days is None else days
    if days in (180, 181, 182, 183, 184):
        return "6 mois"
    if days in (365, 366):
        return "1 an"
    return "1 jour" if days == 1 else f"{days} jours"


def notice_text() -> str:
    """The short notice the chat widget shows before the first message (the widget adds the policy link)."""
    return (
        f"Vos échanges avec Hortense sont enregistrés pour vous répondre et améliorer le service, puis effacés "
        f"au bout de {retention_label()}. Ne donnez jamais d'IBAN, de numéro de carte ni de mot de passe ici."
    )
