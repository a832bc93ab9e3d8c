"""What the bot says when a customer typed a secret (IBAN, card, code, password) in the conversation."""

from __future__ import annotations

from hortense.security.redaction import CARD_MARK, CODE_MARK, IBAN_MARK, PASSWORD_MARK

SECRET_NAMES = {
    IBAN_MARK: "votre IBAN",
    CARD_MARK: "votre numéro de carte",
    CODE_MARK: "votre code confidentiel",
    PASSWORD_MARK: "votre mot de passe",
}


def secret_warning(kinds: list[str]) -> str:
    """What the bot says when a message held a secret (in whatever form): nothing was kept, never type it here.

    `kinds`: what hortense.security.redaction.secret_kinds found."""
    names = [SECRET_NAMES[kind] for kind in kinds if kind in SECRET_NAMES] or ["une information confidentielle"]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " et " + names[-1]
    return (
        f"Par sécurité, j'ai masqué {listed} dans votre message : rien n'a été conservé. Ne communiquez "
        "jamais ces informations dans la conversation ; nos conseillers ne vous les demanderont jamais ici."
    )
