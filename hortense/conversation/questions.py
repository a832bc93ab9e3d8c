"""Find every account question in one message, in the customer's order ("mon numéro de contrat et mes heures
creuses svp"), each with the clause that asks it (so "mon surplus d'octobre" keeps its own period).

Keyword style, like `hortense.topics`: the NLU gives one intent per message; this finds the others.
A clause is the text between separators (",", "?", ";", " et ", " puis ", " ainsi que ", "+"); a clause
that names no question belongs to the previous one ("ma conso de janvier et de février").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hortense.conversation.cues import asks_for_a_call
from hortense.energy.periods import normalise

# intent -> pattern on normalised text (lower case, no accents). Order matters inside one clause: the first
# listed that matches wins ("numéro de contrat" before "contrat").
TOPICS: tuple[tuple[str, str], ...] = (
    ("ask_contract_number", r"\b(n(umero|um|o|°)\.? ?(de |du )?contrat|ref(erence)? (de |du )?contrat)"),
    ("ask_pdl", r"\b(pdl|prm|point de livraison|n(umero|um|°) (de |du )?compteur)\b"),
    (
        "request_contract_document",
        r"\b(contrat (en )?pdf|copie (de |du )?(mon )?contrat|(envoy|telecharg|recev|avoir)\w*"
        r"(-moi)? (moi )?(mon|le) contrat|conditions particulieres)",
    ),
    ("request_proof_of_address", r"\b(justificatif|justif|attestation)"),
    ("change_bank_details", r"\b(rib|iban|coordonnees bancaires|compte bancaire)\b"),
    ("ask_next_instalment", r"\b(pre?l[e]?ve?ments?|echeanc\w*|mensualites?|prochain paiement)"),
    ("ask_invoices", r"\b(fact?ures?|facturation|factur)\b"),
    ("ask_kitty", r"\b(cagn?ott?e|tirelire)\b"),
    ("ask_battery_level", r"\b(batt?e?rie|battery)\b"),
    ("ask_surplus", r"\b(sur?plus|inj[ea]ct\w*)\b"),
    ("ask_consumption", r"\b(conso|consos|consom+\w*)\b"),
    # Off-peak hours as a question of their own ("mes heures creuses", "quelles sont les HC"), not "en heures
    # creuses" refining a consumption question.
    (
        "ask_offpeak_hours",
        r"(\b(mes|les|vos|quelles?|mon|nos|horaires? des?|plages?( horaires?)?( des?)?)\s+"
        r"(heures? creuses|hc)\b|\b(heures? creuses|hc)\b.{0,20}\b(quand|quelle heure|horaires?)\b)",
    ),
    (
        "ask_contract_details",
        r"\b(mon offre|quelle offre|puissance|kva|mon abonnement|details? (de |du )?(mon )?contrat)",
    ),
)
_COMPILED = tuple((intent, re.compile(pattern)) for intent, pattern in TOPICS)
_SEPARATOR = re.compile(r"\s*(?:[?;!\n]+|,|\.\s|\s\+\s|\s&\s|\bet\b|\bpuis\b|\bainsi que\b|\bet aussi\b|\baussi\b)\s*")


@dataclass(frozen=True)
class Question:
    intent: str
    text: str  # the clause asking it (with the clauses that only add details to it)


def topic_of(clause: str) -> str | None:
    t = normalise(clause)
    for intent, pattern in _COMPILED:
        if pattern.search(t):
            return intent
    return None


def clauses(text: str) -> list[str]:
    parts, start = [], 0
    for m in _SEPARATOR.finditer(text or ""):
        parts.append(text[start : m.start()])
        start = m.end()
    parts.append((text or "")[start:])
    return [p.strip() for p in parts if p and p.strip()]


def call_request_in(text: str) -> str | None:
    """The part of the message that asks for a call (its time preference included), if any."""
    asked = [clause for clause in clauses(text) if topic_of(clause) is None and asks_for_a_call(clause)]
    return " ".join(asked) or None


def questions_in(text: str) -> list[Question]:
    """The account questions asked in `text`, in order, one per topic (a repeated topic is merged)."""
    found: list[list] = []  # [intent, clause text]
    for clause in clauses(text):
        intent = topic_of(clause)
        if intent is None and asks_for_a_call(clause):
            continue  # a request of its own, never a detail of the previous question
        if intent is None or (found and found[-1][0] == intent):
            if found:
                found[-1][1] = f"{found[-1][1]} {clause}"
            continue
        if any(f[0] == intent for f in found):
            continue
        found.append([intent, clause])
    return [Question(i, t) for i, t in found]


def several_questions(text: str) -> list[Question]:
    """The questions when there are at least two of them, else []."""
    qs = questions_in(text)
    return qs if len(qs) >= 2 else []
