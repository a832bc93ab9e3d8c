"""Documents and bank details: the answers that hand over a signed, expiring link (never a document or an IBAN
in the chat itself). The links travel beside the text (`Reply.links`): a button, or a short labelled link."""

from __future__ import annotations

from hortense.account.customers import ContractView, CustomerView
from hortense.replies.common import Link, Reply, site_prefix

VALIDITY = "Le lien est valable 15 minutes."


def _document(customer: CustomerView, contract: ContractView, what: str, link: Link) -> Reply:
    return Reply(f"{site_prefix(customer, contract)}Voici votre {what}. {VALIDITY}", links=(link,))


def contract_document(customer: CustomerView, contract: ContractView, url: str) -> Reply:
    return _document(
        customer,
        contract,
        f"contrat {contract.contract_number} en PDF",
        Link("Télécharger votre contrat (PDF)", url, "Contrat (PDF)"),
    )


def proof_of_address(customer: CustomerView, contract: ContractView, url: str) -> Reply:
    return _document(
        customer,
        contract,
        f"justificatif de domicile (attestation de fourniture d'électricité au {contract.supply_address}, "
        f"{contract.supply_postcode} {contract.supply_city})",
        Link("Télécharger votre attestation de domicile (PDF)", url, "Attestation (PDF)"),
    )


def bank_form(url: str, iban_typed: bool) -> Reply:
    """The secure form's link; when an IBAN was typed in the chat, say first that it was not kept."""
    form = (Link("Modifier mes coordonnées bancaires", url, "Modifier mon RIB"),)
    if iban_typed:
        return Reply(
            "Par sécurité, ne m'écrivez jamais votre IBAN ici : je ne l'ai pas enregistré. "
            f"Saisissez-le dans le formulaire sécurisé. {VALIDITY}",
            links=form,
        )
    return Reply(
        "Vous pouvez changer de RIB en ligne, dans un formulaire sécurisé (ne m'écrivez jamais votre "
        "IBAN ici). Le nouveau compte est utilisé après signature du mandat de prélèvement "
        f"SEPA. {VALIDITY}",
        links=form,
    )
