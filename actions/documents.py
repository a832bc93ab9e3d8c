"""Documents and bank details: signed, expiring links (never a document or an IBAN in the chat itself)."""

from __future__ import annotations

from actions.questions import AccountQuestion, one_reply
from hortense.documents import urls as document_links
from hortense.replies import documents as replies
from hortense.security.redaction import IBAN_MARK, contains_iban

RequestContractDocument = one_reply(
    "request_contract_document", "le contrat", replies.contract_document, link=document_links.contract_link
)
RequestProofOfAddress = one_reply(
    "request_proof_of_address",
    "le justificatif de domicile",
    replies.proof_of_address,
    link=document_links.proof_of_address_link,
)


class ChangeBankDetails(AccountQuestion):
    """Never takes an IBAN in the chat: a signed link to the secure form instead, and a warning if one was typed."""

    intent = "change_bank_details"
    wanted = "changer les coordonnées bancaires"

    def answer(self, session, customer, contract, turn):
        iban_typed = IBAN_MARK in turn.text or contains_iban(turn.text)
        return [replies.bank_form(document_links.bank_form_link(customer), iban_typed)]
