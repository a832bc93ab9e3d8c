"""Small French cues read from a message: leaving, yes/no, someone else's data, a question vs. a call reason,
and what an elliptical follow-up ("et en septembre ?", "et pour l'autre site ?") changes. Pure functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from hortense.energy.periods import normalise, parse_period


def _t(text: str) -> str:
    return re.sub(r"\s+", " ", normalise(text or "")).strip()


class Cue:
    """A French cue: a pattern searched in the message in lower case, without accents, spaces collapsed."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def __call__(self, text: str) -> bool:
        return bool(self.pattern.search(_t(text)))


# ----------------------------------------------------------------- leaving

_CLOSING = re.compile(
    r"\b(au revoir|aurevoir|a plus|a\+|a la prochaine|a bientot|bonne (journee|soiree|fin de journee|aprem|"
    r"apres-midi|apres midi|nuit|continuation|semaine)|ce sera tout|ca sera tout|c'?est tout|ca ira|ca va aller|"
    r"rien d'autre|pas d'autre question|plus de question|bye|ciao|salut)\b|\+\+$"
)


def is_closing(text: str) -> bool:
    """The customer is leaving ("ok ce sera tout, au revoir", "parfait, à plus", "non merci c'est tout")."""
    t = _t(text)
    if re.match(r"^salut\b", t) and len(t.split()) <= 3 and not re.search(r"\b(ciao|a plus|bye)\b", t):
        return False  # "salut" alone opens more often than it closes
    return bool(_CLOSING.search(t))


# ----------------------------------------------------------------- yes / no

_YES = re.compile(
    r"^((euh|ben|bah|alors|eh bien|ah|oh)\s+)?(c'?est\s+)?(oui|ouais|ouai|ouep|yes|yep|ok|okay|oki|okey|d'?accord|dac|"
    r"daccord|vas-y|vas y|allez-y|allez y|go|parfait|tres bien|bon|bien|le bon|juste|correct|c'?est ca|"
    r"nickel|impec|impeccable|je confirme|confirme|confirmez|carrement|bien sur|volontiers|exact|exactement|"
    r"absolument|tout a fait|si|ce numero|le bon numero|celui-?la|celui la|ca marche|ca me va)\b"
)
_NO = re.compile(
    r"^(non|nan|nope|no|pas du tout|surtout pas|ne confirmez pas|je ne confirme pas|finalement non|"
    r"non merci|pas maintenant|pas la peine)\b"
)


# Words that may follow a yes or a no without making it something else ("oui c'est bien ce numéro merci").
_FILLER = frozenset(
    re.findall(
        r"\S+",
        "oui ouais ok okay go non nan merci beaucoup svp stp plait s il vous te c est ca va me bon bien tres parfait "
        "ce cet numero le la les bon juste correct je confirme confirmez tout a fait exactement exact top super "
        "nickel impec volontiers sur vas allez y marche celui celui-la la-la d accord dac daccord si finalement pas "
        "garde gardez garder plus besoin peine maintenant surtout du vraiment alors ben bah euh eh ah oh bien-sur "
        "cela convient parfaitement yes yep ouep ouai okey oki vas-y allez-y nope carrement absolument volontiers "
        "impeccable",
    )
)


def yes_no(text: str) -> bool | None:
    """True for a plain yes, False for a plain no, None otherwise ("bon, c'est quoi mon pdl" is neither)."""
    t = _t(text).strip(" .!")
    if not t or len(t.split()) > 8:
        return None
    words = re.findall(r"[a-z0-9-]+", t.replace("'", " "))
    if any(w not in _FILLER for w in words):
        return None
    if _NO.match(t):
        return False
    if _YES.match(t):
        return True
    return None


# ----------------------------------------------------------------- someone else's data

_THIRD_PARTY = re.compile(
    r"\b(de|du|d'|pour|a) ?(mon|ma|mes|notre|un|une|l') ?(voisin|voisine|mere|maman|pere|papa|frere|soeur|fils|fille|"
    r"ami|amie|copain|copine|cousin|cousine|oncle|tante|grand-mere|grand-pere|mari|femme|epoux|epouse|conjoint|"
    r"conjointe|compagnon|compagne|belle-mere|beau-pere|locataire|proprietaire|collegue|client|cliente|"
    r"parents|enfants|grands-parents)s?\b"
    r"|\b(quelqu'un d'autre|une autre personne|un autre client|autre abonne|autre compte)\b"
)
_CUSTOMER_NUMBER = re.compile(r"\bC\d{4,}\b", re.IGNORECASE)


def other_customer_number(text: str, own_number: str | None) -> str | None:
    for m in _CUSTOMER_NUMBER.finditer(text or ""):
        if not own_number or m.group(0).upper() != own_number.upper():
            return m.group(0).upper()
    return None


def asks_third_party(text: str, own_number: str | None) -> bool:
    """ "Le PDL de mon voisin", "le compte de ma mère C1004": data of somebody else than the connected customer."""
    return bool(_THIRD_PARTY.search(_t(text))) or other_customer_number(text, own_number) is not None


# ----------------------------------------------------------------- complaints

is_complaint = Cue(
    r"\b(nul|nulle|nuls|naze|pourri|honte|scandal\w*|inadmissible|inacceptable|n'importe quoi|arnaque|escroc\w*|"
    r"voleurs?|incompetent\w*|ras le bol|ras-le-bol|marre|en colere|furieux|furieuse|mecontent\w*|degoute\w*|"
    r"plainte|reclamation|debile|idiot\w*|con|conne|connard\w*|merde\w*|putain|bordel|foutez|inutile|"
    r"ca marche pas|ca ne marche pas|vous servez a rien|sert a rien|servez a rien)\b"
)


# ----------------------------------------------------------------- asking for a call

# Booking verbs ("je voudrais un rdv demain", "rappelez-moi"), not "j'ai un rdv ?" (a question about the call
# already booked).
asks_for_a_call = Cue(
    r"\b((prendre|reserver|fixer|caler|planifier|avoir|veux|voudrais|voudrai|aimerais|besoin d'?|faut) "
    r"(un |une |d'un )?(rdv|rendez[- ]?vous|appel|rappel|creneau)"
    r"|(?<!j'ai )(?<!j ai )(?<!ai-je )\bun (rdv|rendez[- ]?vous)\b"
    r"|\b(rappel|appel|telephon)(ez|er|e)[- ]?moi\b|\betre rappelee?s?\b)"
)


# ----------------------------------------------------------------- starting over

wants_restart = Cue(
    r"\b(on recommence|recommencer|reprendre (a|depuis) (zero|le debut)|on reprend (a zero|depuis "
    r"le debut|tout)|repartir (a|de) zero|on repart (a|de) zero|remettre a zero|reinitialiser|"
    r"nouvelle conversation|effacer (la|cette) conversation|tout reprendre)\b"
)


# ----------------------------------------------------------------- in a form: a question or an answer?

looks_like_question = Cue(
    r"\?|\b(c'?est quoi|c'?est combien|quel|quelle|quels|quelles|combien|ou en est|ou est|comment|pourquoi|"
    r"est-ce que|est ce que|au fait|sinon|envoie|envoyez|envoyer|donne|donnez|donner|montre|montrez|montrer|"
    r"dites-moi|dis-moi|je veux (mon|ma|mes|le|la|les)|j'?aimerais (mon|ma|mes|le|la|les|avoir|connaitre|savoir)|"
    r"je voudrais (mon|ma|mes|le|la|les|avoir|connaitre|savoir)|rappelez-moi (mon|ma|mes)|tu peux|vous pouvez|"
    r"pouvez-vous|peux-tu|besoin de (mon|ma|mes)|il me faut|telecharger|recevoir)\b"
)
looks_like_reason = Cue(
    r"\b(question (sur|concernant|a propos|au sujet)|questions (sur|concernant)|a propos (de|du|des|d')|au sujet|"
    r"concernant|probleme|souci|soucis|parler (de|du|des|d')|c'?est pour|motif|comprendre|erreur|contester|"
    r"reclamation|changer|modifier|augment\w*|baiss\w*|hausse|plus cher|trop cher|pourquoi|resilier|"
    r"demenag\w*|expliquer|explication|trop elevee?|"
    r"pas normal|anormal|incomprehensible|litige|rembourse\w*|je ne comprends)\b"
)
wants_to_stop = Cue(
    r"\b(laisse[zr]? tomber|laisse tomber|oublie[zr]?( ca| tout)?|on arrete|arrete[zr]? (tout|la)|"
    r"stop|finalement (non|pas|rien)|pas besoin|plus besoin|je ne veux plus|je veux plus|"
    r"annule[zr]? (la|le|ma|mon|tout)? ?(prise de )?(rdv|rendez-vous|reservation|demande)|"
    r"tant pis)\b"
)


# ----------------------------------------------------------------- elliptical follow-ups

_OTHER_SITE = re.compile(
    r"\b(l'?autre|autre) (site|contrat|adresse|local|compteur|boutique|atelier|magasin)\b|"
    r"\bpour l'?autre\b|\bl'?autre\b\s*\??$"
)
_PREVIOUS = re.compile(
    r"\b(d'?avant|precedente?s?|avant-?derniere?|anterieure?s?|plus ancienne?s?|d'?encore avant|"
    r"celle d'?avant|les autres|anciennes?)\b"
)
_NEXT = re.compile(r"\b(d'?apres|suivante?|d'?ensuite)\b")
_OFFPEAK = re.compile(r"\b(heures? creuses|hc)\b")
_PEAK = re.compile(r"\b(heures? pleines|hp)\b")


@dataclass(frozen=True)
class FollowUp:
    other_site: bool = False
    previous: bool = False
    next: bool = False
    offpeak: bool = False
    peak: bool = False
    period_named: bool = False

    @property
    def understood(self) -> bool:
        return self.other_site or self.previous or self.next or self.offpeak or self.peak or self.period_named


def follow_up(text: str, today: date) -> FollowUp:
    t = _t(text)
    return FollowUp(
        other_site=bool(_OTHER_SITE.search(t)),
        previous=bool(_PREVIOUS.search(t)),
        next=bool(_NEXT.search(t)),
        offpeak=bool(_OFFPEAK.search(t)),
        peak=bool(_PEAK.search(t)),
        period_named=parse_period(text, today).explicit,
    )


def is_elliptical(text: str) -> bool:
    """ "et en septembre ?", "et pour l'autre site ?": a short message opening with "et"/"pareil"/"même chose"."""
    t = _t(text)
    return (
        bool(re.match(r"^(et|pareil|meme chose|idem|aussi|et pour|et en|et la|et le|et les|et sur)\b", t))
        and len(t.split()) <= 8
    )
