"""Documents: the contract and the proof of address (download links come with the website's documents)."""
from __future__ import annotations

from actions.base import AccountQuestion
from hortense.replies import Reply
from hortense.replies.common import site_prefix


class RequestContractDocument(AccountQuestion):
    intent = "request_contract_document"
    wanted = "le contrat"

    def answer(self, session, customer, contract, turn):
        return [Reply(f"{site_prefix(customer, contract)}Votre contrat {contract.contract_number} est disponible "
                      "en PDF dans votre espace client, rubrique « Mon contrat ».")]


class RequestProofOfAddress(AccountQuestion):
    intent = "request_proof_of_address"
    wanted = "le justificatif de domicile"

    def answer(self, session, customer, contract, turn):
        return [Reply(f"{site_prefix(customer, contract)}Votre justificatif de domicile (attestation de "
                      "fourniture d'électricité) se télécharge dans votre espace client, rubrique « Mon contrat ».")]


class ChangeBankDetails(AccountQuestion):
    intent = "change_bank_details"
    wanted = "changer les coordonnées bancaires"

    def answer(self, session, customer, contract, turn):
        return [Reply("Pour votre sécurité, ne m'écrivez jamais votre IBAN ici. Vous pouvez changer de RIB dans "
                      "votre espace client, rubrique « Mon contrat » > « Coordonnées bancaires » : le nouveau "
                      "compte est utilisé après signature du mandat de prélèvement SEPA.")]
