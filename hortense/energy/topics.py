"""Energy topics Hortense does not handle itself but must point to the right place (power cuts, moving, leaving)."""

from __future__ import annotations

import re

from hortense.energy.periods import normalise

OUTAGE = "outage"
MOVING = "moving"
CANCELLATION = "cancellation"

_PATTERNS = (
    (
        OUTAGE,
        r"\b(coupure|coupee?s?|panne|plus de (courant|jus|lumiere|electricite)|pas de (courant|lumiere|"
        r"electricite)|n'?ai plus d'?electricite|disjonct\w*|black.?out|court.?circuit|sans (courant|"
        r"electricite)|cable (tombe|arrache)|compteur (eteint|ne s'allume))",
    ),
    (
        MOVING,
        r"\b(demenag\w*|emmenag\w*|nouveau logement|nouvelle adresse|changement d'?adresse|changer d'?adresse|"
        r"je (pars|quitte) (mon|le) (logement|appart\w*|maison)|mise en service)",
    ),
    (
        CANCELLATION,
        r"\b(resili\w*|resigner|arreter (mon|le) contrat|mettre fin|quitter hortense|changer de "
        r"fournisseur|partir chez|passer chez|fermer mon contrat|clotur\w*)",
    ),
)


def energy_topic(text: str) -> str | None:
    t = normalise(text or "")
    for topic, pattern in _PATTERNS:
        if re.search(pattern, t):
            return topic
    return None
