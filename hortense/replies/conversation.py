"""Manners: agreement with the customer's civility, warm closings, complaints, someone else's data, starting over."""

from __future__ import annotations

from hortense.account.customers import CustomerView
from hortense.replies.common import Reply, advisor_contact, menu_buttons, shortcuts


def agree(customer: CustomerView | None, masculine: str, feminine: str, neutral: str) -> str:
    """The word agreed with the customer: Mme -> feminine, M. -> masculine, a company (or unknown) -> neutral
    wording chosen by the caller (never "(e)")."""
    if customer is None or customer.company_name:
        return neutral
    civility = (customer.civility or "").strip().lower().rstrip(".")
    if civility in ("mme", "madame", "mlle", "mademoiselle"):
        return feminine
    if civility in ("m", "monsieur", "mr"):
        return masculine
    return neutral


def closing(customer: CustomerView | None) -> Reply:
    name = f" {customer.first_name}" if customer and not customer.company_name else ""
    return Reply(
        f"Merci pour votre message{name}, et bonne journée ! Je reste disponible ici si vous avez besoin de moi."
    )


def third_party_declined(customer: CustomerView | None) -> Reply:
    return Reply(
        "Je ne peux pas vous communiquer les informations d'une autre personne : je ne réponds que sur le "
        "compte connecté à cette conversation. La personne concernée peut me poser la question depuis son "
        "propre espace client, ou appeler nos conseillers. " + advisor_contact(),
        menu_buttons(customer),
    )


def complaint() -> Reply:
    return Reply(
        "Je suis désolée que la situation vous contrarie, et je comprends votre agacement. Un conseiller "
        "Hortense peut reprendre votre dossier avec vous par téléphone. Voulez-vous que je vous propose un "
        "rendez-vous ?",
        shortcuts("book_appointment"),
    )


def restarted(customer: CustomerView | None) -> Reply:
    if customer is None:
        return Reply("C'est reparti de zéro. Que puis-je faire pour vous ?")
    return Reply("C'est reparti de zéro. Que puis-je faire pour vous ?", menu_buttons(customer))


def follow_up_unclear(customer: CustomerView | None) -> Reply:
    return Reply(
        "Pouvez-vous préciser votre question ? Par exemple « ma conso de septembre » ou « ma dernière facture ».",
        menu_buttons(customer),
    )


def no_other_site() -> Reply:
    return Reply("Vous n'avez qu'un seul contrat chez Hortense : je vous ai répondu pour celui-ci.")
