"""What each offer gives access to: the single place that decides "does this question fit this contract"."""

from __future__ import annotations

from dataclasses import dataclass

from hortense.db.models import OFFER_BOOST, OFFER_PRO, OFFER_STOCKAGE

BATTERY = "battery"
CONSUMPTION = "consumption"
SURPLUS = "surplus"
KITTY = "kitty"
INVOICES = "invoices"
INSTALMENTS = "instalments"

OFFER_LABELS = {
    OFFER_STOCKAGE: "Stockage Virtuel",
    OFFER_BOOST: "Boost Mon Surplus",
    OFFER_PRO: "Électricité verte Pro",
}

FEATURES = {
    OFFER_STOCKAGE: frozenset({BATTERY, CONSUMPTION, INVOICES, INSTALMENTS}),
    OFFER_BOOST: frozenset({SURPLUS, KITTY, INVOICES}),
    OFFER_PRO: frozenset({CONSUMPTION, INVOICES, INSTALMENTS}),
}

# The second part of each customer space, named as the customer sees it.
SPACE_SECTIONS = {
    OFFER_STOCKAGE: ("Mon contrat", "Ma conso", "Mes factures"),
    OFFER_BOOST: ("Mon contrat", "Mon surplus", "Mes factures"),
    OFFER_PRO: ("Mon contrat", "Ma conso", "Mes factures"),
}


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str | None = None  # 'offer' (not part of this offer) or 'not_monthly' (no payment schedule)


def access(offer: str, feature: str, monthly_payment: bool) -> Access:
    if feature not in FEATURES.get(offer, frozenset()):
        return Access(False, "offer")
    if feature == INSTALMENTS and not monthly_payment:
        return Access(False, "not_monthly")
    return Access(True)
