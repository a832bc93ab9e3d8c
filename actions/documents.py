"""Documents and bank details: signed, expiring links (never a document or an IBAN in the chat itself)."""

from __future__ import annotations

from actions.base import AccountQuestion
from hortense.documents import urls as document_links
from hortense.replies import Link, Reply
from hortense.replies.common import site_prefix
from hortense.security.redaction import IBAN_MARK, contains_iban

VALIDITY = "Le lien est valable 15 minutes."
# The links travel beside the text (`Reply.links`): a button, or a short labelled link, on every channel.


class RequestContractDocument(AccountQuestion):
    intent = "request_contract_document"
    wanted = "le contrat"

    def answer(self, session, customer, contract, turn):
        url = document_links.contract_link(customer, contract)
        return [
            Reply(
                f"{site_prefix(customer, contract)}Voici votre contrat {contract.contract_number} en PDF. {VALIDITY}",
                links=(Link("Télécharger votre contrat (PDF)", url, "Contrat (PDF)"),),
            )
        ]


class RequestProofOfAddress(AccountQuestion):
    intent = "request_proof_of_address"
    wanted = "le justificatif de domicile"

    def answer(self, session, customer, contract, turn):
        url = document_links.proof_of_address_link(customer, contract)
        return [
            Reply(
                f"{site_prefix(customer, contract)}Voici votre justificatif de domicile (attestation de "
                f"fourniture d'électricité au {contract.supply_address}, {contract.supply_postcode} "
                f"{contract.supply_city}). {VALIDITY}",
                links=(Link("Télécharger votre attestation de domicile (PDF)", url, "Attestation (PDF)"),),
            )
        ]


class ChangeBankDetails(AccountQuestion):
    """Never takes an IBAN in the chat: a signed link to the secure form instead, and a warning if one was typed."""

    intent = "change_bank_details"
    wanted = "changer les coordonnées bancaires"

    def answer(self, session, customer, contract, turn):
        url = document_links.bank_form_link(customer)
        form = (Link("Modifier mes coordonnées bancaires", url, "Modifier mon RIB"),)
        if IBAN_MARK in turn.text or contains_iban(turn.text):
            return [
                Reply(
                    "Par sécurité, ne m'écrivez jamais votre IBAN ici : je ne l'ai pas enregistré. "
                    f"Saisissez-le dans le formulaire sécurisé. {VALIDITY}",
                    links=form,
                )
            ]
        return [
            Reply(
                "Vous pouvez changer de RIB en ligne, dans un formulaire sécurisé (ne m'écrivez jamais votre "
                "IBAN ici). Le nouveau compte est utilisé après signature du mandat de prélèvement "
                f"SEPA. {VALIDITY}",
                links=form,
            )
        ]
