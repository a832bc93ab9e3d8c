"""Mes factures: invoices and the payment schedule."""

from __future__ import annotations

import re

from rasa_sdk.events import SlotSet

from actions.base import SLOT_LAST_INVOICE
from actions.questions import AccountQuestion, one_reply
from actions.turn import Outcome
from hortense.account.offers import INSTALMENTS, INVOICES
from hortense.billing import invoices as billing
from hortense.db.models import OFFER_BOOST
from hortense.documents import urls as document_links
from hortense.energy.periods import add_months, normalise
from hortense.replies import billing as replies
from hortense.replies import formatting as fr

OLDER = re.compile(
    r"\b(precedentes?|anciennes?|toutes|historique|autres factures|d'?avant|avant-?derniere|"
    r"plus anciennes?|d'?encore avant|anterieures?)\b"
)


def first_invoice_due(contract) -> str:
    """Consumption invoices are bimonthly, issued early in the month after a complete two-month period."""
    first_month = contract.start_date.replace(day=1)
    return f"début {fr.month(add_months(first_month, 3 if contract.offer == OFFER_BOOST else 2))}"


class AskInvoices(AccountQuestion):
    intent = "ask_invoices"
    feature = INVOICES
    wanted = "les factures"

    def answer(self, session, customer, contract, turn):
        items = billing.recent_invoices(session, contract.id, limit=12)
        if not items:
            return [replies.no_invoice_yet(customer, contract, first_invoice_due(contract))]

        def link_to(invoice, one=True):
            return replies.invoice_download(
                invoice, document_links.invoice_link(customer, contract, invoice.number), one
            )

        scope = turn.entity("invoice_scope")
        wants_older = scope == "older" or bool(OLDER.search(normalise(turn.text)))
        if wants_older:
            shown = turn.slots.get(SLOT_LAST_INVOICE)
            numbers = [i.number for i in items]
            start = numbers.index(shown) + 1 if shown in numbers else 1
            plural = scope == "older" or re.search(r"\b(factures|toutes|les autres|historique)\b", normalise(turn.text))
            if plural:
                older = items[start : start + 4]
                reply = replies.older_invoices(
                    customer, contract, older, {i.number: link_to(i, one=False) for i in older}
                )
                last = older[-1].number if older else shown
                return Outcome([reply], [SlotSet(SLOT_LAST_INVOICE, last)])
            if start >= len(items):
                return Outcome([replies.older_invoices(customer, contract, (), {})])
            invoice = items[start]
            reply = replies.one_invoice(
                customer, contract, invoice, link_to(invoice), latest=False, has_older=start + 1 < len(items)
            )
            return Outcome([reply], [SlotSet(SLOT_LAST_INVOICE, invoice.number)])
        last = items[0]
        reply = replies.one_invoice(customer, contract, last, link_to(last), latest=True, has_older=len(items) > 1)
        return Outcome([reply], [SlotSet(SLOT_LAST_INVOICE, last.number)])


AskNextInstalment = one_reply(
    "ask_next_instalment", "l'échéancier", replies.instalments, INSTALMENTS, billing.upcoming_instalments
)
