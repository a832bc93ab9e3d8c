"""Mes factures: invoices and the payment schedule."""
from __future__ import annotations

from actions.base import AccountQuestion, today
from hortense.account.offers import INSTALMENTS, INVOICES
from hortense.billing import invoices as billing
from hortense.documents import urls as document_links
from hortense.replies import billing as replies
from hortense.replies.common import link


class AskInvoices(AccountQuestion):
    intent = "ask_invoices"
    feature = INVOICES
    wanted = "les factures"

    def answer(self, session, customer, contract, turn):
        items = billing.recent_invoices(session, contract.id)
        links = {i.number: link("PDF", document_links.invoice_link(customer, contract, i.number), turn.channel)
                 for i in items}
        return [replies.invoices(customer, contract, items, links)]


class AskNextInstalment(AccountQuestion):
    intent = "ask_next_instalment"
    feature = INSTALMENTS
    wanted = "l'échéancier"

    def answer(self, session, customer, contract, turn):
        return [replies.instalments(customer, contract, billing.upcoming_instalments(session, contract.id, today()))]
